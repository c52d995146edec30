#if canImport(Glibc)
import Glibc
#endif

/// A glibc function looked up at run time: `malloc_trim` and `mallopt` are declared in
/// <malloc.h>, which the Glibc module does not import. nil off glibc or when missing.
enum GlibcSymbol {
    static func lookup(_ name: String) -> UnsafeMutableRawPointer? {
        #if canImport(Glibc)
        guard let process = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(process, name)
        #else
        return nil
        #endif
    }
}
