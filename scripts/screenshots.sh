#!/usr/bin/env bash
# Screenshots of Mocha Messenger for the README: starts a server and two clients
# (Alice and Carol) under Xvfb, a scripted chat partner (Bob), and saves the sign-in
# window, the contact list, a conversation (emoticons as pictures), the app's own file
# picker (Xvfb has no desktop portal) and the options to docs/screenshots/.
# A script for people, not CI. Needs (Debian/Ubuntu):
#   apt-get install xvfb x11-utils xauth imagemagick xdotool curl libgl1-mesa-dri libegl-mesa0
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/screenshots
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cargo build -p mocha-server -p mocha-messenger --bin mocha-server --bin mocha-messenger --example chat_partner
target=${CARGO_TARGET_DIR:-target}/debug

port=$((20000 + RANDOM % 20000))
"$target/mocha-server" --data-dir "$work/data" --passport-port "$port" \
  --notification-port $((port + 1)) --switchboard-port $((port + 2)) >"$work/server.log" 2>&1 &
pids+=($!)
server="https://localhost:$port"
ca="$work/data/tls/ca.pem"
for _ in $(seq 100); do curl -sf --cacert "$ca" "$server/api/v1/status" >/dev/null 2>&1 && break; sleep 0.2; done

api() { curl -sf --cacert "$ca" -H 'content-type: application/json' "$@"; }
register() { api -d "{\"username\":\"$1@example.com\",\"display_name\":\"$2\",\"password\":\"$3\"}" "$server/api/v1/accounts" >/dev/null; }
token() { api -d "{\"username\":\"$1@example.com\",\"password\":\"$2\"}" "$server/api/v1/sessions" | sed 's/.*"session_token":"\([^"]*\)".*/\1/'; }
befriend() { # $1 asks $2 (token $3 of $1, token $4 of $2)
  id=$(api -H "authorization: Bearer $3" -d "{\"username\":\"$2@example.com\"}" "$server/api/v1/contact-requests" \
       | sed 's/.*"request":{"id":\([0-9]*\).*/\1/')
  api -X POST -H "authorization: Bearer $4" "$server/api/v1/contact-requests/$id/accept" >/dev/null
}
pw=Correct-Horse-9
register alice Alice "$pw"; register bob Bob "$pw"; register carol Carol "$pw"
ta=$(token alice "$pw"); tb=$(token bob "$pw"); tc=$(token carol "$pw")
befriend alice bob "$ta" "$tb"; befriend alice carol "$ta" "$tc"; befriend carol bob "$tc" "$tb"

export DISPLAY=:$((90 + RANDOM % 9))
Xvfb "$DISPLAY" -screen 0 1600x860x24 >/dev/null 2>&1 &
pids+=($!)
sleep 1

start_client() { # $1 name; settings in $work/$1
  mkdir -p "$work/$1"
  cat >"$work/$1/client-options.json" <<JSON
{"sign_in": {"server": "$server", "ca_certificate": "$ca", "remember_me": false},
 "updates": {"check_at_sign_in": false}}
JSON
  # A home folder of their own, with a few files for the file picker to show.
  mkdir -p "$work/$1/home/Documents" "$work/$1/home/Pictures" "$work/$1/home/Downloads"
  printf 'espresso, latte, mocha\n' >"$work/$1/home/coffee-menu.txt"
  head -c 48000 /dev/zero >"$work/$1/home/Pictures/beans.jpg"
  head -c 2300 /dev/zero >"$work/$1/home/order-for-friday.pdf"
  HOME="$work/$1/home" MOCHA_MESSENGER_CONFIG_DIR="$work/$1" "$target/mocha-messenger" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do xdotool search --sync --onlyvisible --name "Mocha Messenger" >/dev/null 2>&1 && break; sleep 0.2; done
  sleep 2
}
window_of() { xdotool search --onlyvisible --pid "$1" | tail -1; }
# GL windows read back black through `import -window <id>`: grab the screen, crop to the window.
shoot() {
  eval "$(xdotool getwindowgeometry --shell "$1")"
  import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out/$2"
  echo "saved $out/$2"
}

# Alice: the sign-in window, then signed in.
start_client alice
alice=$(window_of "${pids[-1]}")
xdotool windowfocus --sync "$alice" 2>/dev/null || true
xdotool windowsize "$alice" 400 700; xdotool windowmove "$alice" 0 0; sleep 1
xdotool type --delay 30 "alice@example.com"
shoot "$alice" sign-in.png
xdotool key Tab; xdotool type --delay 30 "$pw"; xdotool key Return
sleep 3

# Carol signs in too (the second client), so Alice sees her online.
start_client carol
carol=$(window_of "${pids[-1]}")
xdotool windowsize "$carol" 400 700; xdotool windowmove "$carol" 1180 0; sleep 1
xdotool windowfocus --sync "$carol" 2>/dev/null || true
xdotool type --delay 30 "carol@example.com"; xdotool key Tab; xdotool type --delay 30 "$pw"; xdotool key Return
sleep 3

# Bob (scripted) comes online and starts a conversation with Alice.
"$target/examples/chat_partner" "$server" "$ca" bob@example.com "$pw" alice@example.com >"$work/bob.log" 2>&1 &
pids+=($!)
sleep 2
xdotool windowraise "$alice"; sleep 1
shoot "$alice" contact-list.png
# The conversation opens in an OS window of its own.
chat=""
for _ in $(seq 50); do
  chat=$(xdotool search --onlyvisible --name "Bob - Conversation" 2>/dev/null | head -1) && [ -n "$chat" ] && break
  sleep 0.2
done
[ -n "$chat" ] || { echo "no conversation window appeared" >&2; exit 1; }
xdotool windowsize "$chat" 620 580; xdotool windowmove "$chat" 410 0
sleep 7
shoot "$chat" conversation.png
xdotool windowmove "$chat" 410 80; sleep 1
import -window root -crop 1040x780+0+0 +repage "$out/desktop.png"; echo "saved $out/desktop.png"

# "Send a file…" in the conversation's toolbar opens the app's own picker here.
xdotool windowactivate --sync "$chat" 2>/dev/null || true
xdotool mousemove --window "$chat" ${PICKER_X:-122} ${PICKER_Y:-84} click 1; sleep 2
picker=$(xdotool search --onlyvisible --name "^Send a file to Bob$" 2>/dev/null | head -1 || true)
if [ -n "$picker" ]; then
  xdotool windowmove "$picker" 520 160; sleep 1
  shoot "$picker" file-picker.png
  # Its Cancel button (destroying the X window under winit, with no window manager to
  # ask it politely, would take the whole app down).
  xdotool mousemove --window "$picker" 110 379 click 1; sleep 1
else
  echo "the file picker did not open (toolbar positions moved? set PICKER_X/PICKER_Y)" >&2
fi

# Tools › Options… opens the options in a window of their own.
xdotool windowactivate --sync "$alice" 2>/dev/null || true
xdotool mousemove --window "$alice" 116 12 click 1; sleep 1
xdotool mousemove --window "$alice" 140 38 click 1; sleep 2
options=$(xdotool search --onlyvisible --name "^Options$" 2>/dev/null | head -1 || true)
if [ -n "$options" ]; then
  xdotool windowmove "$options" 420 100; sleep 1
  xdotool mousemove --window "$options" 384 18 click 1; sleep 2   # the "Audio & video" tab
  shoot "$options" options.png
else
  echo "the options window did not open (menu positions moved?)" >&2
fi
echo "done: $(ls "$out")"
