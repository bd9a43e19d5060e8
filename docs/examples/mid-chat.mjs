// Mid-chat login, end to end against a local Parley with its demo brand (./build.sh run):
//   node --experimental-websocket docs/examples/mid-chat.mjs
// An anonymous visitor asks the bot for a statement copy; the bot sends a login link; the visitor
// logs in at the demo brand (authorization code flow); the messenger hands Parley the code and the
// same conversation continues, authenticated.
const base = process.env.PARLEY_URL ?? "http://localhost:5080";
const deploymentId = "7a3c0000-0000-4000-8000-0000000000d3"; // the demo bank's code-flow deployment

const session = await (await fetch(`${base}/api/v1/sessions`, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ deploymentId }),
})).json();
console.log(`anonymous session: authenticated=${session.authenticated}`);

const socket = new WebSocket(`${base.replace(/^http/, "ws")}/ws/consumer?deploymentId=${deploymentId}`);
const waiting = [];
const inbox = [];
socket.onmessage = (e) => {
  const frame = JSON.parse(e.data);
  const shown = frame.type === "message" ? `${frame.message.senderRole} ${frame.message.kind} "${frame.message.text}"` : frame.type === "error" ? `error ${frame.code}: ${frame.message}` : frame.type;
  console.log(`<= ${shown}`);
  const i = waiting.findIndex((w) => w.match(frame));
  if (i >= 0) waiting.splice(i, 1)[0].resolve(frame); else inbox.push(frame);
};
const send = (frame) => socket.send(JSON.stringify(frame));
const expect = (match) => {
  const i = inbox.findIndex(match);
  return i >= 0 ? Promise.resolve(inbox.splice(i, 1)[0]) : new Promise((resolve) => waiting.push({ match, resolve }));
};
await new Promise((r) => (socket.onopen = r));
send({ type: "auth", token: session.visitorToken });
await expect((f) => f.type === "ready");
send({ type: "conversation.start" });
const conversationId = (await expect((f) => f.type === "conversation")).conversation.id;
send({ type: "conversation.subscribe", conversationId, since: 0 });
await expect((f) => f.type === "subscribed");
send({ type: "message.send", conversationId, clientMessageId: "ask-1", text: "Can I have a statement copy?" });
const link = (await expect((f) => f.type === "message" && f.message.text === "authentication.requested")).message.data.url;
console.log(`login link: ${link.slice(0, link.indexOf("?"))}?response_type=…&state=…&nonce=…&code_challenge=…`);

// The visitor's browser: log in at the brand, then follow the authorization request back to Parley.
const login = await fetch(`${base}/demo-brand/login`, {
  method: "POST", redirect: "manual",
  body: new URLSearchParams({ username: "grace", password: "parley-demo", return: "/demo-brand" }),
});
const cookie = login.headers.get("set-cookie").split(";")[0];
const back = new URL((await fetch(link, { redirect: "manual", headers: { cookie } })).headers.get("location"));
console.log(`brand redirected to ${back.origin}${back.pathname}?code=…&state=…`);

// Parley's callback page would post these to the messenger; the messenger sends them with its own token.
send({ type: "conversation.authenticate", conversationId, state: back.searchParams.get("state"), code: back.searchParams.get("code") });
const upgraded = await expect((f) => f.type === "session" || f.type === "error");
console.log(`session frame: authenticated=${upgraded.authenticated}, conversation authenticated=${upgraded.conversation?.authenticated}`);
await expect((f) => f.type === "message" && f.message.senderRole === "bot" && f.message.kind === "text" && f.message.text.startsWith("Your statement"));
socket.close(1000);
