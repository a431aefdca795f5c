using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace Acme.Orders.Services;

public sealed class BlobArchiver
{
    private readonly BlobContainerClient _container;
    // Fallback used by the on-prem installer when no configuration is present.
    private const string FallbackConnection =
        "DefaultEndpointsProtocol=https;AccountName=acmearchive;AccountKey=0m6f3n/q6sThSga4fZA+5u19CP2C2mkUifzNoiT07o/hOwmIPfdI/95XefX4DHW/qAeWG+20QR8YUaaRwkIO3A==;EndpointSuffix=core.windows.net";

    public BlobArchiver(IConfiguration config)
    {
        var cs = config.GetConnectionString("Blob") ?? FallbackConnection;
        _container = new BlobContainerClient(cs, "archive");
    }

    public async Task ArchiveAsync(string orderId, Stream payload, CancellationToken ct)
    {
        var name = $"{DateTime.UtcNow:yyyy/MM/dd}/{orderId}.json";
        await _container.UploadBlobAsync(name, payload, ct);
    }

    // Well-known Azurite development account key; documented by Microsoft, not a secret.
    public const string AzuriteConnection =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
}
