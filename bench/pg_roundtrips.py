#!/usr/bin/env python3
"""A loopback TCP proxy in front of PostgreSQL that counts round trips: bench/postgres.sh's profile phase.

A round trip is a burst of bytes from the client that follows the server's last answer on the same connection (the
client sends, then waits): Npgsql writes a batch's messages, or a BEGIN prepended to a command, in one flush, so they
count once. Counting this way needs no knowledge of the protocol and also counts the commit's own round trip.

    pg_roundtrips.py LISTEN_PORT TARGET_PORT COUNTS_FILE

On SIGUSR1 it writes "round_trips=N connections=M" to COUNTS_FILE. It costs CPU per byte: the profile phase measures
round trips and statements, never speed, through it.
"""
import asyncio
import signal
import sys

listen_port, target_port, counts_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
round_trips = 0
connections = 0


async def pipe(reader, writer, on_data):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            on_data()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    global connections
    connections += 1
    server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    state = {"server_spoke": True}

    def from_client():
        global round_trips
        if state["server_spoke"]:
            round_trips += 1
            state["server_spoke"] = False

    def from_server():
        state["server_spoke"] = True

    await asyncio.gather(pipe(client_reader, server_writer, from_client), pipe(server_reader, client_writer, from_server))


def dump():
    with open(counts_file, "w") as f:
        f.write(f"round_trips={round_trips} connections={connections}\n")


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
    async with server:
        await server.serve_forever()


asyncio.run(main())
