"""A WebSocket test client on asgiref's ApplicationCommunicator (channels.testing imports daphne, not installed):
the same calls as channels' WebsocketCommunicator."""

import json
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator


class WebsocketCommunicator(ApplicationCommunicator):
    def __init__(self, application, path, headers=None, client=("127.0.0.1", 50000)):
        parsed = urlparse(path)
        scope = {"type": "websocket", "path": unquote(parsed.path), "raw_path": parsed.path.encode(),
                 "query_string": parsed.query.encode(), "headers": headers or [], "subprotocols": [],
                 "client": client, "server": ("testserver", 80)}
        super().__init__(application, scope)

    async def connect(self, timeout=10):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def send_to(self, text_data=None):
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data):
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout=10):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code=1000, timeout=10):
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
