using Parley;
using Parley.Cli;

if (ParleyCli.Handles(args))
{
    return await ParleyCli.RunAsync(args);
}

await ParleyApp.Create(args).RunAsync();
return 0;
