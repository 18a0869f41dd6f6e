import PortalD

await PortalCommand.start()
