/** The widget's styles, inside its shadow root: nothing leaks into the brand's page or in from it. */
export const styles = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid transparent; }
button:focus-visible, textarea:focus-visible, .log:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
button:disabled { cursor: not-allowed; opacity: .6; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px; border-radius: 50%;
  background: #0b3d6b; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #b00020; color: #fff; font-size: 13px; font-weight: 700; line-height: 22px; text-align: center; }
.panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483000; width: 370px; max-width: calc(100vw - 24px);
  height: 560px; max-height: calc(100vh - 112px); display: flex; flex-direction: column; background: #fff;
  border: 1px solid #c4c9d2; border-radius: 12px; box-shadow: 0 10px 30px rgba(0,0,0,.22); overflow: hidden; }
.page .panel { position: static; width: 100%; max-width: none; height: 100vh; max-height: none; border: 0; border-radius: 0; box-shadow: none; }
[hidden] { display: none !important; }
header { background: #0b3d6b; color: #fff; padding: 10px 12px; display: flex; align-items: center; gap: 8px; }
header h2 { font-size: 16px; margin: 0; flex: 1; }
header .state { font-size: 12px; opacity: .95; }
header button { background: transparent; color: #fff; border-color: rgba(255,255,255,.6); padding: 2px 8px; }
.tools { display: flex; gap: 6px; padding: 6px 10px; border-bottom: 1px solid #e3e6eb; background: #f6f7f9; flex-wrap: wrap; }
.tools button, .notice button, .closed button { background: #fff; color: #0b3d6b; border-color: #0b3d6b; padding: 3px 10px; font-size: 13px; }
.notice { margin: 8px 10px 0; padding: 8px 10px; border-radius: 8px; background: #fff4e5; border: 1px solid #b35c00; color: #4a2700; display: flex; gap: 8px; align-items: flex-start; }
.notice p { margin: 0; flex: 1; }
.notice button.primary { background: #0b3d6b; color: #fff; font-weight: 600; }
.log { flex: 1; overflow-y: auto; padding: 10px 12px; }
.messages { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.messages li { max-width: 85%; }
.msg { padding: 7px 10px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.who { display: block; font-size: 12px; color: #4a4f57; margin-bottom: 1px; }
.mine { align-self: flex-end; text-align: right; }
.mine .msg { background: #0b3d6b; color: #fff; border-bottom-right-radius: 4px; text-align: left; }
.theirs .msg { background: #eef0f3; border-bottom-left-radius: 4px; }
.event { align-self: center; max-width: 95%; text-align: center; font-size: 13px; color: #4a4f57; font-style: italic; }
.event button { margin-left: 6px; font-style: normal; background: #0b3d6b; color: #fff; padding: 3px 10px; }
.mark { display: block; font-size: 11px; color: #4a4f57; margin-top: 1px; }
.typing { min-height: 20px; padding: 0 12px; font-size: 12px; color: #4a4f57; }
.closed { padding: 8px 12px; border-top: 1px solid #e3e6eb; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; font-size: 14px; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e3e6eb; }
textarea { flex: 1; resize: none; font: inherit; padding: 8px; border: 1px solid #6b7280; border-radius: 6px; min-height: 40px; max-height: 120px; }
form button { background: #0b3d6b; color: #fff; padding: 0 14px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
