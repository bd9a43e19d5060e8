#!/usr/bin/env bash
# Run against ./build.sh run:  bash docs/examples/custom-login-page.sh   (needs curl, openssl, python3, xxd, node)
# A custom login page (Pega style) on deployment d1: settings with a security key and the brand's login page.
# It changes d1 while it runs (authentication settings, bot) and puts it back at the end: the
# visitor closes the conversation, d1 gets its settings and bot back, the new settings record is deleted.
ADMIN=$(curl -s -X POST http://localhost:5080/api/v1/agent/login -H 'content-type: application/json' \
  -d '{"email":"admin@demo.parley.test","password":"parley-demo"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
D=7a3c0000-0000-4000-8000-0000000000d1
BEFORE_SETTINGS=$(curl -s http://localhost:5080/api/v1/admin/deployments -H "authorization: Bearer $ADMIN" \
  | python3 -c 'import sys,json;print(json.dumps([d["authenticationSettingsId"] for d in json.load(sys.stdin) if d["deploymentId"].endswith("d1")][0]))')
BEFORE_BOT=$(curl -s http://localhost:5080/api/v1/admin/deployments/$D/bot -H "authorization: Bearer $ADMIN")
KEY=$(openssl rand -hex 32)
SETTINGS=$(curl -s -X POST http://localhost:5080/api/v1/admin/authentication-settings -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d "{\"name\":\"Custom login page\",\"flow\":\"implicit\",\"issuer\":\"https://login.brand.example\",\"clientId\":\"parley\",\"authorizationEndpoint\":\"https://login.brand.example/chat-login\",\"securityKey\":\"$KEY\"}" \
  | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
curl -s -o /dev/null -X PUT http://localhost:5080/api/v1/admin/deployments/$D/authentication-settings -H "authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d "{\"settingsId\":\"$SETTINGS\"}"
curl -s -X PUT http://localhost:5080/api/v1/admin/deployments/$D/bot -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"greeting":"Hello!","cases":[{"name":"Statement copy","keywords":["statement"],"answer":"Your statement is on its way.","requiresAuthentication":true}]}'; echo
VISITOR=$(curl -s -X POST http://localhost:5080/api/v1/sessions -H 'content-type: application/json' -d "{\"deploymentId\":\"$D\"}" \
  | python3 -c 'import sys,json;print(json.load(sys.stdin)["visitorToken"])')
# The visitor asks for the case over the WebSocket (here with a tiny node client); the bot answers with the link.
LINK=$(VISITOR=$VISITOR D=$D node --experimental-websocket --no-warnings -e '
  const s = new WebSocket(`ws://localhost:5080/ws/consumer?deploymentId=${process.env.D}`); let id;
  s.onopen = () => s.send(JSON.stringify({ type: "auth", token: process.env.VISITOR }));
  s.onmessage = (e) => { const f = JSON.parse(e.data);
    if (f.type === "ready") s.send(JSON.stringify({ type: "conversation.start" }));
    if (f.type === "conversation" && !id) { id = f.conversation.id; s.send(JSON.stringify({ type: "conversation.subscribe", conversationId: id }));
      s.send(JSON.stringify({ type: "message.send", conversationId: id, clientMessageId: "c1", text: "statement please" })); }
    if (f.type === "message" && f.message.text === "authentication.requested") { console.log(id + " " + f.message.data.url); s.close(); } };')
CONVERSATION=${LINK%% *}; URL=${LINK#* }
echo "login link: $URL" | sed -E 's/(state|nonce)=[^&]+/\1=…/g'
STATE=$(python3 -c "import sys,urllib.parse as u;print(u.parse_qs(u.urlparse(sys.argv[1]).query)['state'][0])" "$URL")
NONCE=$(python3 -c "import sys,urllib.parse as u;print(u.parse_qs(u.urlparse(sys.argv[1]).query)['nonce'][0])" "$URL")
# The custom login page checked the customer and signs what it verified, with the login's nonce, using the security key.
b64() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
NOW=$(date +%s)
H=$(printf '{"alg":"HS256","typ":"JWT"}' | b64)
P=$(printf '{"iss":"https://login.brand.example","aud":"parley","sub":"customer-77","nonce":"%s","iat":%d,"exp":%d,"given_name":"Pat"}' "$NONCE" $NOW $((NOW+300)) | b64)
S=$(printf '%s.%s' "$H" "$P" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$KEY" | xxd -p -c 256)" -binary | b64)
echo '== completing the login with the assertion'
RESULT=$(curl -s -X POST http://localhost:5080/api/v1/consumer/conversations/$CONVERSATION/authenticate -H "authorization: Bearer $VISITOR" \
  -H 'content-type: application/json' -d "{\"state\":\"$STATE\",\"assertion\":\"$H.$P.$S\"}"); echo "$RESULT"
echo '== replaying it (with the new, authenticated visitor token)'
AUTHENTICATED=$(printf '%s' "$RESULT" | python3 -c 'import sys,json;print(json.load(sys.stdin)["visitorToken"])')
curl -s -X POST http://localhost:5080/api/v1/consumer/conversations/$CONVERSATION/authenticate -H "authorization: Bearer $AUTHENTICATED" \
  -H 'content-type: application/json' -d "{\"state\":\"$STATE\",\"assertion\":\"$H.$P.$S\"}"; echo
# Put d1 back as it was (nothing printed).
VISITOR=$AUTHENTICATED D=$D C=$CONVERSATION node --experimental-websocket --no-warnings -e '
  const s = new WebSocket(`ws://localhost:5080/ws/consumer?deploymentId=${process.env.D}`);
  s.onopen = () => s.send(JSON.stringify({ type: "auth", token: process.env.VISITOR }));
  s.onmessage = (e) => { const f = JSON.parse(e.data);
    if (f.type === "ready") s.send(JSON.stringify({ type: "conversation.close", conversationId: process.env.C }));
    if (f.type === "conversation" || f.type === "error") s.close(); };'
curl -s -o /dev/null -X PUT http://localhost:5080/api/v1/admin/deployments/$D/authentication-settings -H "authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d "{\"settingsId\":$BEFORE_SETTINGS}"
if [ "$BEFORE_BOT" = '{"greeting":null,"cases":[]}' ]; then
  curl -s -o /dev/null -X DELETE http://localhost:5080/api/v1/admin/deployments/$D/bot -H "authorization: Bearer $ADMIN"
else
  curl -s -o /dev/null -X PUT http://localhost:5080/api/v1/admin/deployments/$D/bot -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' -d "$BEFORE_BOT"
fi
curl -s -o /dev/null -X DELETE http://localhost:5080/api/v1/admin/authentication-settings/$SETTINGS -H "authorization: Bearer $ADMIN"
