using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

// The worker keeps its protocol types internal but embeds their descriptors (FunctionRpcReflection.Descriptor).
// Write that file and everything it imports, dependencies first, as a FileDescriptorSet.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: FunctionsHost.ProtocolExport <descriptor-set-path>");
    return 2;
}

const string ReflectionTypeSuffix = ".FunctionRpcReflection";
var workerGrpc = Assembly.Load("Microsoft.Azure.Functions.Worker.Grpc");
var reflectionType = workerGrpc.GetTypes().SingleOrDefault(t => t.FullName?.EndsWith(ReflectionTypeSuffix, StringComparison.Ordinal) == true)
    ?? throw new InvalidOperationException($"{workerGrpc.GetName()} has no type ending in {ReflectionTypeSuffix}.");
var root = (FileDescriptor)(reflectionType.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
    ?? throw new InvalidOperationException($"{reflectionType.FullName}.Descriptor not found."));

var set = new FileDescriptorSet();
var seen = new HashSet<string>(StringComparer.Ordinal);
void Add(FileDescriptor file)
{
    if (!seen.Add(file.Name))
    {
        return;
    }

    foreach (var dependency in file.Dependencies)
    {
        Add(dependency);
    }

    set.File.Add(FileDescriptorProto.Parser.ParseFrom(file.SerializedData));
}

Add(root);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0]))!);
File.WriteAllBytes(args[0], set.ToByteArray());
Console.WriteLine($"{string.Join(' ', seen)} -> {args[0]}");
return 0;
