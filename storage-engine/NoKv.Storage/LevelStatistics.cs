namespace NoKv.Storage;

/// <summary>File count and size of one LSM level at the moment statistics were taken.</summary>
public sealed record LevelStatistics(int Level, int FileCount, long Bytes);
