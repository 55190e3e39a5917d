import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceError } from "../errors/index.js";
import { execFailure, execOwned, requireProgram } from "../infra/process.js";
import { cacheDir } from "../util/paths.js";

/** A broker's TLS material: a PKCS12 keystore for 127.0.0.1/localhost signed by a CA of its own. */
export interface BrokerTls {
  /** The CA certificate (PEM) clients trust. */
  ca: string;
  keystore: string;
  password: string;
}

const KEYTOOL_REMEDY = "install a Java 17+ JDK or JRE with keytool (apt-get install -y openjdk-17-jre-headless)";
/** Made again after this long (certificates are valid for a year). */
const MAX_AGE_MS = 300 * 24 * 3600 * 1000;

/**
 * A CA and a broker keystore made with `keytool` (about 4 s of JVM starts), kept in the cache so later brokers
 * start as fast as before: a test broker's loopback certificate, never a secret worth more than that.
 */
export async function localBrokerTls(env: NodeJS.ProcessEnv = process.env): Promise<BrokerTls> {
  const dir = join(cacheDir(), "broker-tls");
  const files = { ca: join(dir, "ca.pem"), keystore: join(dir, "broker.p12"), password: join(dir, "password") };
  if (Object.values(files).every((f) => existsSync(f)) && Date.now() - statSync(files.keystore).mtimeMs < MAX_AGE_MS) {
    return { ca: readFileSync(files.ca, "utf8"), keystore: files.keystore, password: readFileSync(files.password, "utf8") };
  }
  mkdirSync(cacheDir(), { recursive: true });
  const work = mkdtempSync(join(cacheDir(), "broker-tls-"));
  try {
    const password = randomBytes(12).toString("hex");
    await makeKeystore(requireProgram("keytool", KEYTOOL_REMEDY, env), work, password, env);
    writeFileSync(join(work, "password"), password, { mode: 0o600 });
    // Whole or not at all: another process may be making the same files.
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    return { ca: readFileSync(files.ca, "utf8"), keystore: files.keystore, password };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function makeKeystore(keytool: string, dir: string, pw: string, env: NodeJS.ProcessEnv): Promise<void> {
  const run = async (...args: string[]) => {
    try {
      await execOwned(keytool, args, { cwd: dir, env, timeout: 60_000 });
    } catch (e) {
      throw new ServiceError(`keytool ${args[0]} failed: ${execFailure(e)}`, { cause: e, remedy: KEYTOOL_REMEDY });
    }
  };
  const store = (file: string) => ["-keystore", file, "-storetype", "PKCS12", "-storepass", pw];
  const key = ["-keyalg", "EC", "-groupname", "secp256r1", "-validity", "365"];
  const san = "SAN=ip:127.0.0.1,dns:localhost";
  await Promise.all([
    run("-genkeypair", "-alias", "ca", "-dname", "CN=quixlab local broker CA", "-ext", "bc:c", ...key, ...store("ca.p12")),
    run("-genkeypair", "-alias", "broker", "-dname", "CN=localhost", "-ext", san, ...key, ...store("broker.p12")),
  ]);
  await Promise.all([
    run("-exportcert", "-alias", "ca", "-rfc", "-file", "ca.pem", ...store("ca.p12")),
    run("-certreq", "-alias", "broker", "-file", "broker.csr", ...store("broker.p12")),
  ]);
  await run("-gencert", "-alias", "ca", "-infile", "broker.csr", "-outfile", "broker.pem", "-rfc", "-validity", "365", "-ext", san, ...store("ca.p12"));
  await run("-importcert", "-alias", "ca", "-file", "ca.pem", "-noprompt", ...store("broker.p12"));
  await run("-importcert", "-alias", "broker", "-file", "broker.pem", ...store("broker.p12"));
}
