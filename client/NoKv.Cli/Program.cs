Console.Error.WriteLine("nokv: not built yet");
return 1;
