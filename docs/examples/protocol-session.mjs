// A worked example of Parley's messaging protocol: a visitor and an agent converse.
// Run against a local Parley (./build.sh run):  node --experimental-websocket docs/examples/protocol-session.mjs
// It uses the demo deployment d1 (no login, no bot) and the demo agent; the agent closes the
// conversation at the end, so the demo is left as it was (a closed conversation more in its history).
// docs/protocol.md shows its output; DocsExamplesTests runs it and compares the two.
const base = process.env.PARLEY_URL ?? "http://localhost:5080";
const deploymentId = "7a3c0000-0000-4000-8000-0000000000d1"; // the demo website: no login, no bot
const ws = base.replace(/^http/, "ws");

const post = async (path, body) =>
  (await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();

// Frames are printed when the script takes them, in the order it waits for them, so the output is
// the same on every run; frames nobody waited for are printed at the end as unexpected.
function open(url, name) {
  const socket = new WebSocket(url);
  const inbox = [];
  const waiters = [];
  socket.onmessage = (e) => {
    const frame = { text: e.data, json: JSON.parse(e.data) };
    const i = waiters.findIndex((w) => w.match(frame.json));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(frame); else inbox.push(frame);
  };
  const take = (frame) => { console.log(`${name} <= ${frame.text}`); return frame.json; };
  return {
    ready: new Promise((r) => (socket.onopen = r)),
    send(frame) { console.log(`${name} => ${JSON.stringify(frame)}`); socket.send(JSON.stringify(frame)); },
    async expect(type, where = () => true) {
      const match = (f) => f.type === type && where(f);
      const i = inbox.findIndex((f) => match(f.json));
      return take(i >= 0 ? inbox.splice(i, 1)[0] : await new Promise((resolve) => waiters.push({ match, resolve })));
    },
    unexpected() { return inbox.splice(0).map((f) => `${name} <= (unexpected) ${f.text}`); },
    close() { socket.close(1000); },
  };
}

const session = await post("/api/v1/sessions", { deploymentId });
console.log(`POST /api/v1/sessions => consumerId ${session.consumerId}`);
const visitor = open(`${ws}/ws/consumer?deploymentId=${deploymentId}`, "visitor");
await visitor.ready;
visitor.send({ type: "auth", token: session.visitorToken });
await visitor.expect("ready");
visitor.send({ type: "conversation.start", requestId: "r1", attributes: { page: "/pricing", cart: "149.00" } });
const { conversation } = await visitor.expect("conversation");
visitor.send({ type: "conversation.subscribe", conversationId: conversation.id, since: 0 });
await visitor.expect("subscribed");
visitor.send({ type: "message.send", requestId: "r2", conversationId: conversation.id, clientMessageId: "c-1", text: "Hi, where is my order?" });
await visitor.expect("message"); // the visitor's own message, as everyone watching gets it
await visitor.expect("message.ack");

const login = await post("/api/v1/agent/login", { email: "agent@demo.parley.test", password: "parley-demo" });
console.log(`POST /api/v1/agent/login => agent ${login.agent.id}`);
const agent = open(`${ws}/ws/agent`, "agent");
await agent.ready;
agent.send({ type: "auth", token: login.token });
await agent.expect("ready");
agent.send({ type: "conversation.accept", requestId: "a1", conversationId: conversation.id });
await agent.expect("conversation.updated", (f) => f.requestId === "a1"); // the reply
await agent.expect("conversation.updated", (f) => f.requestId === undefined); // what every agent of the tenant gets
await visitor.expect("conversation"); // agentAssigned is true now
agent.send({ type: "conversation.subscribe", conversationId: conversation.id, since: 0 });
const first = await agent.expect("message");
await agent.expect("subscribed");
agent.send({ type: "receipt", conversationId: conversation.id, deliveredSeq: first.message.seq, readSeq: first.message.seq });
await agent.expect("receipt");
await visitor.expect("receipt");
agent.send({ type: "message.send", requestId: "a2", conversationId: conversation.id, clientMessageId: "a-1", text: "Let me check that for you." });
await agent.expect("message");
await agent.expect("message.ack");
await visitor.expect("message");
agent.send({ type: "conversation.close", requestId: "a3", conversationId: conversation.id });
await agent.expect("message", (f) => f.message.text === "conversation.closed");
await agent.expect("conversation.updated", (f) => f.requestId === "a3");
await agent.expect("conversation.updated", (f) => f.requestId === undefined);
await visitor.expect("message", (f) => f.message.text === "conversation.closed");
await visitor.expect("conversation");
await new Promise((r) => setTimeout(r, 200));
for (const line of [...visitor.unexpected(), ...agent.unexpected()]) console.log(line);
visitor.close();
agent.close();
