for (i in 1..5) { gremlinJob.updateProgress(i * 20); Thread.sleep(200) }; 100
