// 刷身份证取号: the kiosk page hears the print agent on its own PC (kiosk/cardrelay.py) over a
// websocket on 127.0.0.1: what the server answered for a card read (a one-time token, the masked
// number, the senior lane, numbers left today) or why it refused it. Never the number itself.
export function watchCards(port, on) {
  if (!port) return;
  let attempt = 0;
  const open = () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.onopen = () => {
      attempt = 0;
      document.body.dataset.cardReader = "online";
    };
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "card") on.card(m);
      else if (m.type === "card_error") on.refused(m);
    };
    ws.onclose = () => {
      document.body.dataset.cardReader = "offline";
      setTimeout(open, Math.min(10000, 500 * 2 ** Math.min(attempt++, 5)));
    };
  };
  open();
}
