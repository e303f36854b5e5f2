using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Vending.Testing;

/// <summary>
/// A real Azurite (Table, Queue, Blob) on free loopback ports, started from the repository's node_modules
/// (`npm ci` installs the pinned version). In-memory, so every instance starts empty. Dispose stops it.
/// Shared by the test projects through a linked source file.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private readonly Process _process;

    private Azurite(Process process, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static Task<Azurite> StartAsync(CancellationToken cancellationToken = default) => StartAsync(0, cancellationToken);

    /// <summary>With <paramref name="basePort"/> 0 every service gets a free port; otherwise blob, queue and table
    /// listen on basePort, basePort+1 and basePort+2 (10000 gives Azurite's usual ports).</summary>
    public static async Task<Azurite> StartAsync(int basePort, CancellationToken cancellationToken = default)
    {
        var root = RepositoryRoot();
        var script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed at {script}: run `npm ci` in {root} (the README's test command does).");
        }

        // Free ports, chosen by the OS; a rare race with another process is retried below.
        for (var attempt = 1; ; attempt++)
        {
            int blob = basePort == 0 ? FreePort() : basePort;
            int queue = basePort == 0 ? FreePort() : basePort + 1;
            int table = basePort == 0 ? FreePort() : basePort + 2;
            if (basePort != 0 && new[] { blob, queue, table }.FirstOrDefault(p => !IsFree(p)) is var busy and > 0)
            {
                // Otherwise we would "find" someone else's Azurite listening there and use its data.
                throw new InvalidOperationException($"Port {busy} is already in use: stop what listens there or choose other ports.");
            }

            var start = new ProcessStartInfo("node")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                script, "--silent", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(),
            })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var azurite = new Azurite(process, blob, queue, table);
            if (await azurite.WaitUntilListeningAsync(TimeSpan.FromSeconds(30), cancellationToken))
            {
                return azurite;
            }

            await azurite.DisposeAsync();
            if (attempt == 3 || basePort != 0)
            {
                throw new InvalidOperationException($"Azurite did not start listening within 30 s (attempt {attempt}; ports {blob}, {queue}, {table}).");
            }
        }
    }

    private async Task<bool> WaitUntilListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (await IsListening(TablePort) && await IsListening(QueuePort) && await IsListening(BlobPort))
            {
                return true;
            }

            await Task.Delay(100, cancellationToken);
        }

        return false;
    }

    private static async Task<bool> IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The folder holding VendingFunctions.sln, found upwards from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VendingFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("VendingFunctions.sln not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception) when (_process.HasExited)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }
}
