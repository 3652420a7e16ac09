// A custom runtime with Node's http module, with a keep-alive agent or a
// connection per request ($CLIENT_MODE: keepalive | close).
"use strict";
const http = require("http");

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const base = "/2018-06-01/runtime/invocation";
const agent = new http.Agent({ keepAlive: process.env.CLIENT_MODE !== "close", maxSockets: 1 });

function request(method, path, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, agent, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
                                    body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function answerFor(event) {
  const parsed = JSON.parse(event.toString());
  if (parsed.op === "fail")
    return ["error", '{"errorMessage":"asked to fail","errorType":"Test.Failure"}',
            { "Lambda-Runtime-Function-Error-Type": "Test.Failure" }];
  if (parsed.op === "size") return ["response", '"' + "x".repeat(parsed.n - 2) + '"', {}];
  return ["response", event, {}];
}

(async () => {
  for (;;) {
    const next = await request("GET", `${base}/next`);
    const id = next.headers["lambda-runtime-aws-request-id"];
    const [verb, body, headers] = answerFor(next.body);
    headers["Content-Length"] = Buffer.byteLength(body);
    const done = await request("POST", `${base}/${id}/${verb}`, body, headers);
    console.log(`answer ${id}: ${done.status}`);
  }
})().catch((error) => { console.error(error); process.exit(5); });
