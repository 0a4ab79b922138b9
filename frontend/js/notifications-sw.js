// Service worker for browser push (registered by notifications.js). The payload is the JSON
// the web_push transport encrypts: title, body, priority, notification_id, url.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: event.data ? event.data.text() : "StockSense" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "StockSense", {
      body: data.body || "",
      tag: data.notification_id ? `notification-${data.notification_id}` : undefined,
      data: { url: data.url || "/notifications/" },
      requireInteraction: data.priority === "high",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.url));
});
