using Microsoft.Extensions.Configuration;

public class Startup
{
    const string Storage = "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=NTnBt9CnSVoJC2dIdxINRSaxsZisdlBW16RuVNPkgtugkI42+41IBoS3oK+NfCYhaAMBrGLPpa/3wqWDTjYf3c==;EndpointSuffix=core.windows.net";
    const string ClientSecret = "D6e8Q~O2Z1LoZcPv6Ul3nF3ZkYNRCQvj-o-ySSsE";
    const string Emulator = "UseDevelopmentStorage=true";
}
