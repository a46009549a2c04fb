# A loopback h2c server for one etcd Range over gRPC: it reads the call,
# waits for the shim's datagram, writes the whole answer (HEADERS, DATA,
# trailers) at once, then tells the shim.  Prints "TCP_PORT UDP_PORT";
# gives up after 60 s.
import socket
import struct
import sys


def frame(typ, flags, sid, payload=b""):
    return (struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) +
            struct.pack(">I", sid) + payload)


def literal(name, value):  # HPACK: literal without indexing, new name
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def field(number, data):  # protobuf: a length-delimited field
    return bytes([number << 3 | 2, len(data)]) + data


def read_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b


lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(1)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
print(lst.getsockname()[1], udp.getsockname()[1], flush=True)
lst.settimeout(60)
udp.settimeout(60)
c, _ = lst.accept()
c.settimeout(60)
read_exact(c, 24)  # the client preface
c.sendall(frame(4, 0, 0))  # SETTINGS
while True:
    h = read_exact(c, 9)
    length, typ, flags = int.from_bytes(h[:3], "big"), h[3], h[4]
    sid = int.from_bytes(h[5:9], "big") & 0x7FFFFFFF
    read_exact(c, length)
    if typ == 4 and not flags & 1:
        c.sendall(frame(4, 1, 0))  # SETTINGS ACK
    if sid == 1 and flags & 1 and typ in (0, 1):  # END_STREAM: call sent
        break
_, shim = udp.recvfrom(16)
# RangeResponse{header{revision 5}, kvs{key "/x/A", mod_revision 5, value "1"}}
kv = field(1, b"/x/A") + b"\x18\x05" + field(5, b"1")
msg = field(1, b"\x18\x05") + field(2, kv) + b"\x20\x01"
c.sendall(frame(1, 4, 1, b"\x88" + literal("content-type", "application/grpc")) +
          frame(0, 0, 1, b"\x00" + struct.pack(">I", len(msg)) + msg) +
          frame(1, 5, 1, literal("grpc-status", "0")))
udp.sendto(b"sent", shim)
try:
    while c.recv(65536):
        pass
except OSError:
    pass
