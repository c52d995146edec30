import ArgumentParser
import Core
import Ingest
import Server

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
        var registry = try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
        // The demo keeps its read token in a private file so every run prints the same one;
        // projects.json holds only its hash.
        let tokenPath = dataOptions.data + "/.demo-token"
        let token: String
        if let saved = try? FileIO.readFile(tokenPath), let text = String(validating: saved, as: UTF8.self),
           text.hasPrefix("th_") {
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            token = AccessTokens.generate()
            try FileIO.writeFileAtomically(tokenPath, Array((token + "\n").utf8))
            chmod(tokenPath, 0o600)
        }
        // An admin token, so the demo dashboard can switch between all projects.
        let digest = AccessTokens.sha256Hex(token)
        if !registry.adminTokenHashes.contains(digest) {
            // Through RegistryDocument: the rest of the file (integrations, other tokens'
            // fields, keys this version does not know) is kept as it is.
            try RegistryDocument.edit(path: path) { document in
                try document.addToken(sha256: digest, projectID: nil,
                                      createdAt: UTCTime.formatISO(micros: UTCTime.nowMicros() / 1_000_000 * 1_000_000))
            }
            registry = try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
        }
        for project in registry.projects {
            print("project: \(project.id)  hash: \(project.hash)")
        }
        print("token (admin, read): \(token)")
    }
}

import Foundation
