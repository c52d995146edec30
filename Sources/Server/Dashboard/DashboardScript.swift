/// The dashboard's script, one file for the browser made of the parts below (each part is a
/// plain script section; they share one function scope so no module loader is needed).
enum DashboardScript {
    static let text = "(function () {\n'use strict';\n"
        + [core, api, charts, panels, sites, app].joined(separator: "\n")
        + "\n})();\n"
}
