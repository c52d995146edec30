import ArgumentParser
import Ingest

/// Prepares a data folder for `make demo`: a demo project in projects.json (kept if present).
struct DemoSetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-setup",
        abstract: "Create <data>/projects.json with a demo project unless one exists, and print its hash.")

    @OptionGroup var dataOptions: DataOptions

    func run() throws {
        let path = dataOptions.data + "/projects.json"
        try FileIO.makeDirectories(dataOptions.data)
        if !FileIO.exists(path) {
            let project = Project(id: "demo-plugin", name: "Demo Plugin", type: "plugin",
                                  hash: "a4a8da5b-b419-4656-98e9-4a42e9044891",
                                  extraFields: [.init(key: "total_posts", type: .int)],
                                  deactivationReasons: ["too-expensive"])
            try FileIO.writeFileAtomically(path, ProjectRegistry(projects: [project]).serialized())
        }
        let registry = try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
        for project in registry.projects {
            print("project \(project.id) hash \(project.hash)")
        }
    }
}
