gremlinJob.setMinSaveInterval(1)
gremlinJob.updateProgress(42)
gremlinJob.progress()
