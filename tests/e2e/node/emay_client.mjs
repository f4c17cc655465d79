// A small Emay client on Node's built-ins only (crypto, zlib, http), written from
// docs/protocol.md, and its "tests": what a team's own client suite would do in CI.
//
// EMAY_URL, EMAY_APP_ID, EMAY_SECRET_KEY name the mock and the account. With --deviate it
// also sends a mobile with a +86 prefix, a deviation from the vendor document.
import crypto from "node:crypto";
import http from "node:http";
import zlib from "node:zlib";

const base = process.env.EMAY_URL;
const appId = process.env.EMAY_APP_ID;
const key = Buffer.from(process.env.EMAY_SECRET_KEY ?? "", "utf8"); // the raw secretKey is the AES key
if (!base || !appId || key.length === 0) {
  console.error("set EMAY_URL, EMAY_APP_ID and EMAY_SECRET_KEY");
  process.exit(2);
}
const deviate = process.argv.includes("--deviate");

function aes(decrypt, data) {
  const name = `aes-${key.length * 8}-ecb`; // PKCS5 padding is Node's default
  const cipher = decrypt ? crypto.createDecipheriv(name, key, null) : crypto.createCipheriv(name, key, null);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function post(path, body, headers) {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { ...headers, "Content-Length": body.length } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// §2.1: JSON with requestTime/requestValidPeriod -> UTF-8 -> gzip (header gzip: on) -> AES/ECB/PKCS5.
async function call(endpoint, fields) {
  const json = JSON.stringify({ ...fields, requestTime: Date.now(), requestValidPeriod: 60 });
  const body = aes(false, zlib.gzipSync(Buffer.from(json, "utf8")));
  const res = await post(`/inter/${endpoint}`, body, {
    appId, gzip: "on", encode: "UTF-8", "Content-Type": "application/octet-stream",
  });
  const code = res.headers["result"];
  if (res.status !== 200 || !code) throw new Error(`${endpoint}: HTTP ${res.status}, no result header`);
  const data = code === "SUCCESS" && res.body.length ? JSON.parse(zlib.gunzipSync(aes(true, res.body)).toString("utf8")) : null;
  return { code, data };
}

async function control(path, payload) {
  const res = await post(path, Buffer.from(JSON.stringify(payload)), { "Content-Type": "application/json" });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${res.body}`);
}

function check(what, ok) {
  if (!ok) throw new Error(`FAILED: ${what}`);
  console.log(`ok - ${what}`);
}

const sent = await call("sendSingleSMS", { mobile: "13800000000", content: "【测试】您的验证码是 1234", customSmsId: "node-1" });
check("sendSingleSMS answers SUCCESS with an smsId", sent.code === "SUCCESS" && /^\d+$/.test(sent.data.smsId));
const black = await call("sendSingleSMS", { mobile: "13855500002", content: "【测试】黑名单" });
check("a blacklisted number is accepted too", black.code === "SUCCESS");
if (deviate) {
  const prefixed = await call("sendSingleSMS", { mobile: "+8613800000001", content: "【测试】+86" });
  check("a +86 mobile is accepted (and noted)", prefixed.code === "SUCCESS");
}
await control("/_mock/clock/advance", { seconds: 2 });
const reports = await call("getReport", { number: 500 });
const states = Object.fromEntries((reports.data ?? []).map((r) => [r.smsId, r.state]));
check("the report of the first message is DELIVRD", states[sent.data.smsId] === "DELIVRD");
check("the blacklisted number's report is FAIL_BLACK_LIST", states[black.data.smsId] === "FAIL_BLACK_LIST");
const balance = await call("getBalance", {});
check("getBalance answers a number", typeof balance.data.balance === "number");
