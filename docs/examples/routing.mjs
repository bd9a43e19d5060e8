// Routing, end to end against a local Parley with its demo brand (./build.sh run):
//   node --experimental-websocket docs/examples/routing.mjs
// Three visitors ask for an agent: an anonymous one, Grace (logged in) and Ada (logged in, and a
// VIP according to the brand's signed lwicontexts). The agent's queue lists Ada first.
const base = process.env.PARLEY_URL ?? "http://localhost:5080";
const plain = "7a3c0000-0000-4000-8000-0000000000d1"; // the demo website: no login, no bot
const bank = "7a3c0000-0000-4000-8000-0000000000d2";  // the demo bank: page token, bot
const json = { "content-type": "application/json" };
const post = async (path, body, token) => (await fetch(base + path, {
  method: "POST", headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
}));
const get = async (path, token) => (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json();

/** A visitor's conversation: started, and (on the bank) the bot asked for an agent. */
async function chat(deploymentId, jwt, name) {
  const response = await post("/api/v1/sessions", { deploymentId, jwt });
  if (!response.ok) throw new Error(`POST /api/v1/sessions: ${response.status} ${await response.text()}`);
  const session = await response.json();
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/ws/consumer?deploymentId=${deploymentId}`);
  const frames = [];
  let notify = () => {};
  socket.onmessage = (e) => { frames.push(JSON.parse(e.data)); notify(); };
  const expect = async (match) => {
    for (;;) {
      const i = frames.findIndex(match);
      if (i >= 0) return frames.splice(i, 1)[0];
      await new Promise((r) => (notify = r));
    }
  };
  await new Promise((r) => (socket.onopen = r));
  socket.send(JSON.stringify({ type: "auth", token: session.visitorToken }));
  await expect((f) => f.type === "ready");
  socket.send(JSON.stringify({ type: "conversation.start" }));
  const conversationId = (await expect((f) => f.type === "conversation")).conversation.id;
  if (deploymentId === bank) {
    socket.send(JSON.stringify({ type: "conversation.subscribe", conversationId, since: 0 }));
    socket.send(JSON.stringify({ type: "message.send", conversationId, clientMessageId: "ask", text: "Can I talk to an agent?" }));
    await expect((f) => f.type === "message" && f.message.text === "conversation.handover");
    console.log(`${name}: handed over by the bot`);
  } else {
    console.log(`${name}: started`);
  }
  socket.close(1000);
  return conversationId;
}

/** The demo brand's page token for one of its users (what the brand's page would hand the messenger). */
async function pageToken(username) {
  const login = await fetch(`${base}/demo-brand/login`, {
    method: "POST", redirect: "manual", body: new URLSearchParams({ username, password: "parley-demo", return: "/demo-brand" }),
  });
  const cookie = login.headers.get("set-cookie").split(";")[0];
  return (await (await fetch(`${base}/demo-brand/page-token`, { headers: { cookie } })).json()).token;
}

const names = new Map();
names.set(await chat(plain, undefined, "anonymous visitor"), "anonymous visitor");
names.set(await chat(bank, await pageToken("grace"), "Grace"), "Grace");
names.set(await chat(bank, await pageToken("ada"), "Ada"), "Ada");

const agent = (await (await post("/api/v1/agent/login", { email: "agent@demo.parley.test", password: "parley-demo" })).json()).token;
console.log("\nGET /api/v1/agent/queue");
for (const c of (await get("/api/v1/agent/queue", agent)).filter((c) => names.has(c.id))) {
  console.log(`  ${names.get(c.id).padEnd(18)} queue=${c.queue.padEnd(13)} priority=${String(c.priority).padEnd(3)} rule=${c.routingRule}`);
}

const next = await (await post("/api/v1/agent/conversations/next", {}, agent)).json();
console.log(`\nPOST /api/v1/agent/conversations/next -> ${names.get(next.id) ?? next.id} (${next.queue})`);

const admin = (await (await post("/api/v1/agent/login", { email: "admin@demo.parley.test", password: "parley-demo" })).json()).token;
console.log("\nGET /api/v1/admin/queues");
for (const q of await get("/api/v1/admin/queues", admin)) console.log("  " + JSON.stringify(q));
