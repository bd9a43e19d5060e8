// Routing, end to end against a local Parley with its demo brand (./build.sh run):
//   node --experimental-websocket docs/examples/routing.mjs
// Three visitors ask for an agent: an anonymous one on the demo website (d1), Grace (logged in) and
// Ada (logged in, and a VIP according to the brand's signed lwicontexts) on the demo bank (d2). The
// agent's queue lists Ada first, and "next" takes her. At the end the three visitors close their
// conversations, so the demo is left as it was. On a server that was used before, a customer's open
// conversation from earlier is closed first (a customer has one open conversation per deployment),
// and conversations that waited before the script started are counted, not taken.
// docs/routing.md shows its output; DocsExamplesTests runs it and compares the two.
const base = process.env.PARLEY_URL ?? "http://localhost:5080";
const plain = "7a3c0000-0000-4000-8000-0000000000d1"; // the demo website: no login, no bot
const bank = "7a3c0000-0000-4000-8000-0000000000d2";  // the demo bank: page token, bot
const json = { "content-type": "application/json" };
const post = async (path, body, token) => (await fetch(base + path, {
  method: "POST", headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
}));
const get = async (path, token) => (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json();

/** A visitor's socket, authenticated, with a way to wait for a frame. */
async function connect(deploymentId, visitorToken) {
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
  socket.send(JSON.stringify({ type: "auth", token: visitorToken }));
  await expect((f) => f.type === "ready");
  const send = (frame) => socket.send(JSON.stringify(frame));
  const close = async (conversationId) => {
    send({ type: "conversation.close", conversationId });
    await expect((f) => f.type === "conversation" && f.conversation.id === conversationId && f.conversation.status === "closed");
  };
  return { send, expect, close, socket };
}

/** A visitor's conversation: started, and (on the bank) the bot asked for an agent. The socket stays open. */
async function chat(deploymentId, jwt, name) {
  const response = await post("/api/v1/sessions", { deploymentId, jwt });
  if (!response.ok) throw new Error(`POST /api/v1/sessions: ${response.status} ${await response.text()}`);
  const session = await response.json();
  const visitor = await connect(deploymentId, session.visitorToken);
  if (session.showConversationId) {
    await visitor.close(session.showConversationId);
    console.log(`${name}: closed the open conversation from before`);
  }
  visitor.send({ type: "conversation.start" });
  const conversationId = (await visitor.expect((f) => f.type === "conversation")).conversation.id;
  if (deploymentId === bank) {
    visitor.send({ type: "conversation.subscribe", conversationId, since: 0 });
    visitor.send({ type: "message.send", conversationId, clientMessageId: "ask", text: "Can I talk to an agent?" });
    await visitor.expect((f) => f.type === "message" && f.message.text === "conversation.handover");
    console.log(`${name}: handed over by the bot`);
  } else {
    console.log(`${name}: started`);
  }
  return { name, conversationId, visitor };
}

/** The demo brand's page token for one of its users (what the brand's page would hand the messenger). */
async function pageToken(username) {
  const login = await fetch(`${base}/demo-brand/login`, {
    method: "POST", redirect: "manual", body: new URLSearchParams({ username, password: "parley-demo", return: "/demo-brand" }),
  });
  const cookie = login.headers.get("set-cookie").split(";")[0];
  return (await (await fetch(`${base}/demo-brand/page-token`, { headers: { cookie } })).json()).token;
}

const chats = [
  await chat(plain, undefined, "anonymous visitor"),
  await chat(bank, await pageToken("grace"), "Grace"),
  await chat(bank, await pageToken("ada"), "Ada"),
];
const mine = new Map(chats.map((c) => [c.conversationId, c.name]));

const agent = (await (await post("/api/v1/agent/login", { email: "agent@demo.parley.test", password: "parley-demo" })).json()).token;
console.log("\nGET /api/v1/agent/queue");
const queue = await get("/api/v1/agent/queue", agent);
for (const c of queue.filter((c) => mine.has(c.id))) {
  console.log(`  ${mine.get(c.id).padEnd(18)} queue=${c.queue.padEnd(13)} priority=${String(c.priority).padEnd(3)} rule=${c.routingRule}`);
}
const earlier = queue.filter((c) => !mine.has(c.id));
if (earlier.length > 0) console.log(`  (and ${earlier.length} conversation(s) that waited before this script started)`);

if (queue.length > 0 && !mine.has(queue[0].id)) {
  // "next" takes the first waiting conversation: here one that is not this script's.
  console.log(`\nPOST /api/v1/agent/conversations/next would take a conversation that waited before this script started`
    + ` (queue=${queue[0].queue}, priority=${queue[0].priority}); not taken. Delete ./data for a fresh demo.`);
} else {
  const next = await (await post("/api/v1/agent/conversations/next", {}, agent)).json();
  console.log(`\nPOST /api/v1/agent/conversations/next -> ${mine.get(next.id)} (queue=${next.queue})`);
}

const admin = (await (await post("/api/v1/agent/login", { email: "admin@demo.parley.test", password: "parley-demo" })).json()).token;
console.log("\nGET /api/v1/admin/queues");
for (const q of await get("/api/v1/admin/queues", admin)) {
  console.log(`  ${q.name.padEnd(13)} waiting=${q.waiting} agents=${q.agents} connected=${q.agentsConnected}`);
}

for (const c of chats) {
  await c.visitor.close(c.conversationId);
  c.visitor.socket.close(1000);
}
console.log("\nthe three visitors closed their conversations");
