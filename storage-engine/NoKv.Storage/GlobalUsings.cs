// The engine's Version (a set of live files) shadows System.Version, which the engine never uses.
global using Version = NoKv.Storage.Manifest.Version;
