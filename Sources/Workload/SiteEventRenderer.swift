import Core
import Ingest

/// Turns one site action into an envelope: the full `Envelope` for samples and tests, or
/// straight into the bytes `Envelope.line()` would give (the generator's hot path).
struct SiteEventRenderer {
    let builder: SitePayloadBuilder
    /// Reused line buffer: after `renderLine`, holds the line, newline included.
    /// Only `renderLine` uses it; `deallocate()` frees it.
    private(set) var sink = JSONBytesSink()
    private var timeScratch: [UInt8] = []

    init(builder: SitePayloadBuilder) {
        self.builder = builder
    }

    /// What every rendering shares, drawn from `random` in one fixed order (id first, then
    /// the payload's draws) so both renderings of the same state are identical.
    private struct Frame {
        var route: Envelope.Route
        var profile: SiteProfile
        var url: String
        var userAgent: String?
        var id: String
    }

    private func frame(site: SiteState, event: SiteEventKind, micros: Int64, random: inout SeededRandom) -> Frame {
        let profile = SiteProfile(seed: site.identitySeed)
        let url = profile.url(atFraction: builder.clock.fraction(micros))
        let route: Envelope.Route
        switch event {
        case .track: route = .track
        case .deactivate: route = .deactivate
        case .skip: route = .trackingSkipped
        }
        // The SDK fingerprints the home URL (an opt-out's only site identity); JSON-body
        // clients are often not the SDK at all.
        let userAgent: String
        if site.sendsJSONBody && site.identitySeed % 2 == 0 && route != .trackingSkipped {
            userAgent = "axios/1.6.2"
        } else {
            userAgent = "Appsero/" + SDKFingerprint.md5Hex(url) + ";"
        }
        let id = EventID.make(micros: micros, using: &random)
        return Frame(route: route, profile: profile, url: url, userAgent: userAgent, id: id)
    }

    func envelope(site: SiteState, event: SiteEventKind, micros: Int64, random: inout SeededRandom) -> Envelope {
        let frame = frame(site: site, event: event, micros: micros, random: &random)
        var payload = JSONObjectSink()
        builder.write(site: site, profile: frame.profile, url: frame.url, kind: event, atMicros: micros,
                      random: &random, into: &payload)
        return Envelope(id: frame.id, receivedAtMicros: micros, route: frame.route, ip: SiteProfile.ipText(frame.profile.peerIPv4),
                        userAgent: frame.userAgent, payload: payload.object)
    }

    /// Renders the line into `sink.bytes` and returns its route. Mirrors `Envelope.line()`
    /// byte for byte (the generator tests compare every line with it).
    mutating func renderLine(site: SiteState, event: SiteEventKind, micros: Int64,
                             random: inout SeededRandom) -> Envelope.Route {
        let frame = frame(site: site, event: event, micros: micros, random: &random)
        sink.removeAll()
        sink.append(#"{"v":1,"id":"#)
        sink.appendQuoted(frame.id)
        sink.append(#","received_at":""#)
        timeScratch.removeAll(keepingCapacity: true)
        UTCTime.appendISO(micros: micros, fraction: .always, to: &timeScratch)
        sink.append(timeScratch)
        sink.append(#"","route":""#)
        switch frame.route {
        case .track: sink.append("track")
        case .deactivate: sink.append("deactivate")
        case .trackingSkipped: sink.append("tracking-skipped")
        }
        sink.append(#"","ip":"#)
        sink.appendQuotedIPv4(frame.profile.peerIPv4)
        sink.append(#","user_agent":"#)
        if let userAgent = frame.userAgent { sink.appendQuoted(userAgent) } else { sink.append("null") }
        sink.append(#","payload":"#)
        sink.openObject()
        builder.write(site: site, profile: frame.profile, url: frame.url, kind: event, atMicros: micros,
                      random: &random, into: &sink)
        sink.closeObject()
        sink.append("}\n")
        return frame.route
    }

    /// Frees the line buffer; the renderer is unusable afterwards.
    func deallocate() { sink.deallocate() }
}
