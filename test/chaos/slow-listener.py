# A listener on a bad connection: a tiny receive buffer, reading at RATE bytes/s (0: never reads
# after the request). Used by the chaos suite to check that such listeners are dropped.
import socket
import sys
import time

host, port, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
s.sendall(b"GET /stations/lofi/stream.mp3 HTTP/1.1\r\nHost: chaos\r\n\r\n")
while True:
    if rate == 0:
        time.sleep(1)
        continue
    data = s.recv(min(4096, rate))
    if not data:
        break
    time.sleep(len(data) / rate)
