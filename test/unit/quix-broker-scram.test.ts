/** The local broker's opt-in SASL listeners (what the Quix Cloud tests log in to): config and format arguments. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scramFormatArgs, serverProperties } from "../../src/broker/local.js";

const parse = (text: string) => Object.fromEntries(text.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

describe("local broker SASL listeners", () => {
  it("without them, the plain listener's config has no SASL at all", () => {
    const props = parse(serverProperties({ port: 1, controllerPort: 2, dataDir: "/d" }));
    assert.equal(props.listeners, "PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2");
    assert.ok(!Object.keys(props).some((k) => k.startsWith("sasl.") || k.startsWith("listener.name.") || k.startsWith("ssl.")));
  });

  it("adds SASL_PLAINTEXT (and SASL_SSL) with SCRAM-SHA-256/512 beside it, brokers talking PLAINTEXT among themselves", () => {
    const props = parse(serverProperties({ port: 1, controllerPort: 2, dataDir: "/d", scramPort: 3, ssl: { port: 4, tls: { ca: "", keystore: "/k.p12", password: "pw" } } }));
    assert.equal(props.listeners, "PLAINTEXT://127.0.0.1:1,SASL_PLAINTEXT://127.0.0.1:3,SASL_SSL://127.0.0.1:4,CONTROLLER://127.0.0.1:2");
    assert.equal(props["advertised.listeners"], "PLAINTEXT://127.0.0.1:1,SASL_PLAINTEXT://127.0.0.1:3,SASL_SSL://127.0.0.1:4");
    assert.equal(props["inter.broker.listener.name"], "PLAINTEXT");
    assert.equal(props["sasl.enabled.mechanisms"], "SCRAM-SHA-256,SCRAM-SHA-512");
    for (const l of ["sasl_plaintext", "sasl_ssl"]) for (const m of ["scram-sha-256", "scram-sha-512"]) assert.match(props[`listener.name.${l}.${m}.sasl.jaas.config`]!, /ScramLoginModule required;$/);
    assert.deepEqual([props["ssl.keystore.location"], props["ssl.keystore.type"]], ["/k.p12", "PKCS12"]);
  });

  it("creates the user at format time for both mechanisms, refusing characters the tool's syntax cannot carry", () => {
    assert.deepEqual(scramFormatArgs({ username: "u", password: "p" }), ["--add-scram", "SCRAM-SHA-256=[name=u,password=p]", "--add-scram", "SCRAM-SHA-512=[name=u,password=p]"]);
    assert.deepEqual(scramFormatArgs(undefined), []);
    assert.throws(() => scramFormatArgs({ username: "u", password: "a,b" }), /may not contain/);
  });
});
