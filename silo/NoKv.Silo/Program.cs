Console.Error.WriteLine("NoKv.Silo: not built yet");
return 1;
