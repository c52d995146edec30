import Foundation

/// A real SMTP server for tests: aiosmtpd (from the `TRACKHOUSE_PYTHON` venv) on a free
/// loopback port, with STARTTLS on a self-signed certificate made here with openssl and AUTH
/// required after TLS (username `mailer`, password `s3cret-pass`). Every message it accepts is
/// parsed with Python's `email` package and written as JSON (`messages()`): envelope, headers
/// as decoded, each part's type, transfer encoding and decoded text, whether TLS and AUTH were
/// used. Recipients starting `reject-perm` get 550 and `reject-temp` 451.
///
/// `Mode.scripted` modes are a bare asyncio server answering badly on purpose: 421 at the
/// greeting, silence, no STARTTLS offered, bytes injected after the STARTTLS reply.
public final class SMTPTestServer: @unchecked Sendable {
    public enum Mode: String, Sendable {
        /// aiosmtpd with STARTTLS required and AUTH required.
        case real
        /// As `real`, but AUTH offers LOGIN only.
        case loginOnly = "login"
        /// aiosmtpd without TLS (no STARTTLS offered), AUTH refused.
        case plain
        /// 421 as the greeting, then close.
        case greeting421 = "greet421"
        /// Accepts the connection and says nothing.
        case silent
        /// Offers STARTTLS and sends a reply the client did not ask for right after its 220.
        case injectAfterStartTLS = "inject"
    }

    public static let username = "mailer"
    public static let password = "s3cret-pass"

    public let port: Int
    public let directory: String
    public let certificatePath: String
    private let process: Process

    /// Nil (skip the test) without `TRACKHOUSE_PYTHON` or openssl.
    public static func start(_ mode: Mode = .real, directory: String) throws -> SMTPTestServer? {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty,
              FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return nil }
        let cert = directory + "/smtp-cert.pem"
        let key = directory + "/smtp-key.pem"
        if !FileManager.default.fileExists(atPath: cert) {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else { throw TestServerError("openssl could not make a certificate") }
        }
        let script = directory + "/smtp_test_server.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let messages = directory + "/smtp-messages"
        try FileManager.default.createDirectory(atPath: messages, withIntermediateDirectories: true)
        let portFile = directory + "/smtp-port-\(mode.rawValue)-\(UUID().uuidString.prefix(6))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, mode.rawValue, messages, cert, key, portFile]
        process.standardOutput = FileHandle.nullDevice
        let log = directory + "/smtp-server-\(mode.rawValue).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), text.hasSuffix("\n"),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return SMTPTestServer(port: port, directory: messages, certificatePath: cert, process: process)
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw TestServerError("the SMTP test server did not start: \(output.suffix(2000))")
    }

    private init(port: Int, directory: String, certificatePath: String, process: Process) {
        self.port = port
        self.directory = directory
        self.certificatePath = certificatePath
        self.process = process
    }

    deinit { stop() }

    public func stop() {
        // SIGKILL: a child spawned from the test process may inherit a mask blocking SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Every accepted message so far, in arrival order.
    public func messages() -> [[String: Any]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
    }

    /// Waits until at least `count` messages arrived (or `seconds` passed) and returns them.
    public func waitForMessages(_ count: Int, seconds: Double = 30) -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        var found = messages()
        while found.count < count, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            found = messages()
        }
        return found
    }

    public struct TestServerError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static let script = #"""
import asyncio, email, email.policy, json, os, signal, socket, ssl, sys, time

mode, outdir, certfile, keyfile, portfile = sys.argv[1:6]
counter = [0]

def record(obj):
    counter[0] += 1
    name = "%013d-%04d.json" % (int(time.time() * 1000), counter[0])
    tmp = os.path.join(outdir, "." + name)
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, os.path.join(outdir, name))

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject-perm"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if address.startswith("reject-temp"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts, defects = [], [str(d) for d in msg.defects]
        for part in msg.walk():
            defects += [str(d) for d in part.defects]
            if part.is_multipart():
                continue
            parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                          "cte": part.get("Content-Transfer-Encoding"), "content": part.get_content()})
        auth = session.auth_data if isinstance(session.auth_data, dict) else {}
        record({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "tls": session.ssl is not None, "authenticated": bool(session.authenticated),
                "login": auth.get("login"), "mechanism": auth.get("mechanism"),
                "content_type": msg.get_content_type(),
                "headers": {k.lower(): str(v) for k, v in msg.items()},
                "defects": defects, "parts": parts,
                "raw": raw.decode("utf-8", "replace"),
                "max_line": max(len(l) for l in raw.split(b"\r\n"))})
        return "250 2.0.0 Ok: queued as TEST%d" % counter[0]

def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult
    login = auth_data.login.decode()
    password = auth_data.password.decode()
    ok = login == "mailer" and password == "s3cret-pass"
    if not ok:
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=False, handled=False)
    return AuthResult(success=True, auth_data={"login": login, "mechanism": mechanism})

async def scripted(reader, writer):
    async def send(text):
        writer.write(text.encode())
        await writer.drain()
    if mode == "greet421":
        await send("421 4.3.2 Service not available, closing\r\n")
        writer.close()
        return
    if mode == "silent":
        await asyncio.sleep(60)
        return
    await send("220 localhost ESMTP scripted\r\n")
    while True:
        line = await reader.readline()
        if not line:
            return
        verb = line.decode(errors="replace").strip().upper()
        if verb.startswith("EHLO"):
            await send("250-localhost\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n")
        elif verb == "STARTTLS":
            await send("220 2.0.0 Ready to start TLS\r\n250 injected before TLS\r\n")
        elif verb == "QUIT":
            await send("221 bye\r\n")
            return
        else:
            await send("502 5.5.2 not here\r\n")

async def watch_parent(parent):
    # The test process may die without stopping us: leave with it.
    while os.getppid() == parent:
        await asyncio.sleep(1)
    os._exit(0)

async def main():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    asyncio.ensure_future(watch_parent(os.getppid()))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    loop = asyncio.get_running_loop()
    if mode in ("real", "login", "plain"):
        from aiosmtpd.smtp import SMTP
        context = None
        if mode != "plain":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certfile, keyfile)
        def factory():
            kwargs = dict(hostname="localhost", authenticator=authenticator, auth_require_tls=True)
            if context is not None:
                kwargs.update(tls_context=context, require_starttls=True, auth_required=True)
            if mode == "login":
                kwargs.update(auth_exclude_mechanism=["PLAIN"])
            return SMTP(Handler(), **kwargs)
        server = await loop.create_server(factory, sock=sock)
    else:
        server = await asyncio.start_server(scripted, sock=sock)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""#
}
