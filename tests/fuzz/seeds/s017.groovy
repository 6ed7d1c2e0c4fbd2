switch (1) { }
