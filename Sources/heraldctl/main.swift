import HeraldCtl

await HeraldCtlCommand.runFromCommandLine()
