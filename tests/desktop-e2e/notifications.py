"""A recording notification server: owns org.freedesktop.Notifications on the test's private
session bus, records every Notify call, and can "click" an action (emits ActionInvoked) or
refuse notifications for a while (answers Notify with a D-Bus error, as a broken daemon does)."""

import asyncio
import threading
import time

from dbus_next import Variant
from dbus_next.aio import MessageBus
from dbus_next.constants import ErrorType
from dbus_next.errors import DBusError
from dbus_next.service import ServiceInterface, method, signal


class Notifications(ServiceInterface):
    def __init__(self):
        super().__init__("org.freedesktop.Notifications")
        self.records = []
        self.lock = threading.Lock()
        self.next_id = 1
        self.refusing = False

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821 (D-Bus signature)
        return ["actions", "body", "sound"]

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["itv-e2e-recorder", "itvision", "1.0", "1.2"]

    @method()
    def Notify(  # noqa: N802
        self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",  # noqa: F821
        actions: "as", hints: "a{sv}", expire_timeout: "i",  # noqa: F821
    ) -> "u":  # noqa: F821
        if self.refusing:
            raise DBusError(ErrorType.FAILED, "notifications refused by the e2e test")
        with self.lock:
            nid = self.next_id
            self.next_id += 1
            urgency = hints.get("urgency")
            self.records.append({
                "id": nid,
                "app": app_name,
                "summary": summary,
                "body": body,
                "actions": list(actions),
                "urgency": urgency.value if isinstance(urgency, Variant) else None,
                "at": time.time(),
            })
        return nid

    @method()
    def CloseNotification(self, nid: "u"):  # noqa: F821,N802
        self.NotificationClosed(nid, 3)

    @signal()
    def NotificationClosed(self, nid, reason) -> "uu":  # noqa: F821,N802
        return [nid, reason]

    @signal()
    def ActionInvoked(self, nid, key) -> "us":  # noqa: F821,N802
        return [nid, key]


class Recorder:
    """Runs the server on its own asyncio loop in a thread."""

    def __init__(self, bus_address):
        self.iface = Notifications()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.error = None

        async def serve():
            bus = await MessageBus(bus_address=bus_address).connect()
            bus.export("/org/freedesktop/Notifications", self.iface)
            await bus.request_name("org.freedesktop.Notifications")
            ready.set()
            await asyncio.Event().wait()

        def run():
            try:
                self.loop.run_until_complete(serve())
            except Exception as e:  # surfaced by wait_ready
                self.error = e
                ready.set()

        threading.Thread(target=run, daemon=True).start()
        if not ready.wait(10) or self.error:
            raise RuntimeError(f"notification recorder did not start: {self.error}")

    def records(self):
        with self.iface.lock:
            return list(self.iface.records)

    def refuse(self, on):
        """While on, every Notify fails (nothing is recorded)."""
        self.iface.refusing = on

    def click(self, nid, key="open"):
        self.loop.call_soon_threadsafe(self.iface.ActionInvoked, nid, key)
