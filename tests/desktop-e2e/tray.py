"""A tray host for the test's private session bus: owns org.kde.StatusNotifierWatcher (as a
desktop panel does), so the app's tray icon (libayatana-appindicator) registers with it. The test
then reads the item as a panel would: its label (the unread count), and its menu through
com.canonical.dbusmenu (labels, check state), and can click a menu entry."""

import asyncio
import threading
import time

from dbus_next import Message, MessageType, PropertyAccess, Variant
from dbus_next.aio import MessageBus
from dbus_next.service import ServiceInterface, dbus_property, method, signal


class Watcher(ServiceInterface):
    def __init__(self):
        super().__init__("org.kde.StatusNotifierWatcher")
        self.items = []

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):  # noqa: F821,N802 (D-Bus names)
        pass  # the sender is recorded by TrayHost's message handler

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):  # noqa: F821,N802
        pass

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":  # noqa: F821,N802
        return [f"{sender}{path}" for sender, path in self.items]

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":  # noqa: F821,N802
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":  # noqa: F821,N802
        return 0

    @signal()
    def StatusNotifierItemRegistered(self, item) -> "s":  # noqa: F821,N802
        return item

    @signal()
    def StatusNotifierHostRegistered(self) -> None:  # noqa: N802
        return None


def _plain(v):
    return v.value if isinstance(v, Variant) else v


def _entries(node):
    """Flattens a dbusmenu layout (id, props, children) into dicts, separators included."""
    ident, props, children = node
    out = []
    for child in children:
        cid, cprops, grand = _plain(child)
        entry = {k: _plain(v) for k, v in cprops.items()}
        entry["id"] = cid
        out.append(entry)
        out.extend(_entries((cid, cprops, grand)))
    return out


class TrayHost:
    """Runs the watcher on its own asyncio loop in a thread; calls are made from the test thread."""

    def __init__(self, bus_address):
        self.watcher = Watcher()
        self.loop = asyncio.new_event_loop()
        self.bus = None
        ready = threading.Event()
        self.error = None

        def on_message(msg):
            if msg.message_type == MessageType.METHOD_CALL and msg.member == "RegisterStatusNotifierItem":
                path = msg.body[0] if msg.body and msg.body[0].startswith("/") else "/StatusNotifierItem"
                self.watcher.items.append((msg.sender, path))
                self.watcher.StatusNotifierItemRegistered(f"{msg.sender}{path}")
            return None  # let the exported interface answer

        async def serve():
            self.bus = await MessageBus(bus_address=bus_address).connect()
            self.bus.add_message_handler(on_message)
            self.bus.export("/StatusNotifierWatcher", self.watcher)
            await self.bus.request_name("org.kde.StatusNotifierWatcher")
            ready.set()
            await asyncio.Event().wait()

        def run():
            try:
                self.loop.run_until_complete(serve())
            except Exception as e:  # surfaced below
                self.error = e
                ready.set()

        threading.Thread(target=run, daemon=True).start()
        if not ready.wait(10) or self.error:
            raise RuntimeError(f"tray host did not start: {self.error}")

    def _call(self, **kw):
        async def go():
            reply = await self.bus.call(Message(**kw))
            if reply.message_type == MessageType.ERROR:
                raise RuntimeError(f"{kw.get('member')}: {reply.error_name} {reply.body}")
            return reply.body

        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)

    def item(self):
        """The last registered item as (bus name, object path), or None."""
        return self.watcher.items[-1] if self.watcher.items else None

    def properties(self):
        sender, path = self.item()
        (props,) = self._call(
            destination=sender, path=path, interface="org.freedesktop.DBus.Properties",
            member="GetAll", signature="s", body=["org.kde.StatusNotifierItem"],
        )
        return {k: _plain(v) for k, v in props.items()}

    def menu(self):
        """Every menu entry: dicts with 'id', 'label', 'toggle-state'... (separators too)."""
        sender, _ = self.item()
        menu_path = self.properties()["Menu"]
        _, layout = self._call(
            destination=sender, path=menu_path, interface="com.canonical.dbusmenu",
            member="GetLayout", signature="iias", body=[0, -1, []],
        )
        return _entries(layout)

    def labels(self):
        return [e["label"].replace("_", "") for e in self.menu() if e.get("label")]

    def click(self, label):
        sender, _ = self.item()
        menu_path = self.properties()["Menu"]
        entry = next(e for e in self.menu() if e.get("label", "").replace("_", "") == label)
        self._call(
            destination=sender, path=menu_path, interface="com.canonical.dbusmenu",
            member="Event", signature="isvu", body=[entry["id"], "clicked", Variant("s", ""), int(time.time())],
        )
