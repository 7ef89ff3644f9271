"""A real SMTP server on 127.0.0.1 for muster's messaging tests (aiosmtpd, Debian's
python3-aiosmtpd). Every message it accepts is appended to --log as one JSON line.

  --port-file F      where to write the port it listens on (written once it listens)
  --log F            accepted messages: {"from", "to", "message_id", "subject", "body", "attachments", ...}
  --refuse ADDR      answer RCPT TO:<ADDR> with 550 (repeatable)
  --drop-first N     close the connection after the first N messages' data, before answering
  --tempfail-first N answer the first N messages' data with 451
  --delay-ms N       wait this long before accepting each message
"""

import argparse
import asyncio
import email
import json
import os
import socket
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, args):
        self.args = args
        self.seen = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.args.refuse:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen <= self.args.drop_first:
            server.transport.close()
            return "421 4.4.2 connection dropped"
        if self.seen <= self.args.drop_first + self.args.tempfail_first:
            return "451 4.3.0 try again later"
        if self.args.delay_ms:
            await asyncio.sleep(self.args.delay_ms / 1000)
        message = email.message_from_bytes(envelope.content)
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "message_id": message.get("Message-ID"),
            # Unfolded, as a mail client shows a long subject.
            "subject": str(message.get("Subject")).replace("\r\n ", " ").replace("\n ", " "),
            "reply_to": message.get("Reply-To"),
            "header_to": message.get("To"),
            "header_from": message.get("From"),
            "body": "",
            "attachments": [],
        }
        # A scheduled report: the text part is the body, each attachment is saved beside the log.
        for number, part in enumerate(message.walk()):
            if part.is_multipart():
                continue
            data = part.get_payload(decode=True) or b""
            name = part.get_filename()
            if name:
                path = os.path.join(os.path.dirname(self.args.log), f"attachment-{self.seen}-{number}-{name}")
                with open(path, "wb") as saved:
                    saved.write(data)
                record["attachments"].append({"name": name, "type": part.get_content_type(), "path": path})
            elif not record["body"]:
                record["body"] = data.decode("utf-8", "replace")
        with open(self.args.log, "a") as log:
            log.write(json.dumps(record) + "\n")
            log.flush()
        return "250 OK queued"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--drop-first", type=int, default=0)
    parser.add_argument("--tempfail-first", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    args.refuse = [a.lower() for a in args.refuse]
    port = args.port or free_port()
    controller = Controller(Handler(args), hostname="127.0.0.1", port=port)
    controller.start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(port))
    import os

    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
