"""A resolver of the host's on loopback (as systemd-resolved's 127.0.0.53 is),
for tests of the DNS forwarder: UDP and TCP on one address, answering A
queries for the names it is given and NXDOMAIN for the rest, recording what it
was asked and how."""
import socket
import struct
import threading


def parse_question(message):
    """(name, qtype) of a query's first question."""
    labels, at = [], 12
    while message[at]:
        length = message[at]
        labels.append(message[at + 1:at + 1 + length].decode())
        at += 1 + length
    qtype = struct.unpack("!H", message[at + 1:at + 3])[0]
    return ".".join(labels).lower(), qtype, at + 5


def answer(message, records):
    name, qtype, end = parse_question(message)
    flags = 0x8180  # a response, recursion desired and available
    answers = b""
    if name in records and qtype == 1:
        address = socket.inet_aton(records[name])
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + address
    elif name not in records:
        flags |= 3  # NXDOMAIN
    header = message[:2] + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0)
    return header + message[12:end] + answers


def query(name, qid=0x4242):
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)


class FakeDns:
    def __init__(self, address, records):
        self.address = address
        self.records = {k.lower(): v for k, v in records.items()}
        self.asked = []  # (transport, name)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((address, 53))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((address, 53))
        self.tcp.listen(16)
        self.stopping = False
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _serve_udp(self):
        while not self.stopping:
            try:
                message, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            if self.stopping:
                return
            try:
                self.asked.append(("udp", parse_question(message)[0]))
                self.udp.sendto(answer(message, self.records), peer)
            except (OSError, IndexError, struct.error):
                continue  # not a query this server understands

    def _serve_tcp(self):
        while not self.stopping:
            try:
                client, _ = self.tcp.accept()
            except OSError:
                return
            with client:
                try:
                    length = struct.unpack("!H", client.recv(2, socket.MSG_WAITALL))[0]
                    message = client.recv(length, socket.MSG_WAITALL)
                    self.asked.append(("tcp", parse_question(message)[0]))
                    reply = answer(message, self.records)
                    client.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, IndexError, struct.error):
                    pass

    def close(self):
        self.stopping = True
        for sock in (self.udp, self.tcp):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
