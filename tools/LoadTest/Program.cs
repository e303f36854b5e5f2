Console.WriteLine("LoadTest: under construction");
