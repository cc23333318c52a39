using System.Net;
using System.Net.Sockets;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of the test PostgreSQL server that counts round trips: a burst of bytes from the client
/// after the server said it is ready for the next query (its answer ends with ReadyForQuery). Npgsql writes a batch's
/// messages (and a BEGIN it prepends) and then waits, so each wait for the server counts once, the commit's own included.
/// A large batch may reach the server in several writes while the server already answers its first statements (the
/// server flushes a full output buffer before the Sync): that is still one round trip, which is why the server's
/// answering alone does not start a new one.
/// </summary>
public sealed class RoundTripCounter : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Lock _gate = new();
    private long _roundTrips;
    private int _connections;

    private RoundTripCounter(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _pumps.Add(AcceptAsync());
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>Each counted round trip as "connection:first message type", for a failure message to show.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; } = new();

    /// <summary>A proxy to the server at <paramref name="host"/>:<paramref name="port"/> (an address on this machine).</summary>
    public static RoundTripCounter Start(string host, int port) =>
        new(new IPEndPoint(Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork), port));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] pumps;
        lock (_gate)
        {
            pumps = [.. _pumps];
        }

        try
        {
            await Task.WhenAll(pumps);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The pumps end with their sockets.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_gate)
            {
                _pumps.Add(RelayAsync(client));
            }
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        await server.ConnectAsync(_target, _stop.Token);
        client.NoDelay = true;
        server.NoDelay = true;

        // 1: the server spoke last (or nobody yet), so the client's next bytes start a round trip.
        var serverSpoke = 1;
        var connection = Interlocked.Increment(ref _connections);
        var up = PumpAsync(client.GetStream(), server.GetStream(), bytes =>
        {
            if (Interlocked.Exchange(ref serverSpoke, 0) == 1)
            {
                Interlocked.Increment(ref _roundTrips);
                Log.Enqueue($"{connection}:{(bytes[0] is >= (byte)'A' and <= (byte)'z' ? (char)bytes[0] : '?')}{bytes.Length}");
            }
        });
        // The last bytes the server sent, across reads: ReadyForQuery is 'Z', the length 5, and the transaction status.
        var tail = new byte[6];
        var down = PumpAsync(server.GetStream(), client.GetStream(), (bytes) =>
        {
            if (bytes.Length >= tail.Length)
            {
                bytes[^tail.Length..].CopyTo(tail);
            }
            else
            {
                tail.AsSpan(bytes.Length).CopyTo(tail);
                bytes.CopyTo(tail.AsSpan(tail.Length - bytes.Length));
            }

            if (tail[0] == (byte)'Z' && tail[1] == 0 && tail[2] == 0 && tail[3] == 0 && tail[4] == 5)
            {
                Volatile.Write(ref serverSpoke, 1);
            }
        });
        await Task.WhenAny(up, down);
        client.Close();
        server.Close();
    }

    private delegate void DataHandler(ReadOnlySpan<byte> bytes);

    private async Task PumpAsync(NetworkStream from, NetworkStream to, DataHandler onData)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                onData(buffer.AsSpan(0, read));
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            // A closed side ends the relay.
        }
    }
}
