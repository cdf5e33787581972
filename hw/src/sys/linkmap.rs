//! The linker map `scripts/build-sys` writes beside the image (`/MAP`): symbolises addresses in
//! the loaded image (bugchecks, traps) as `symbol+0xoff`.

/// Symbols by address (Rva+Base, i.e. at the image's preferred base).
#[derive(Debug, Default, Clone)]
pub struct LinkMap {
    syms: Vec<(u64, String)>,
}

impl LinkMap {
    /// Parses lld-link's map: rows `SSSS:OOOOOOOO  name  RvaPlusBase  lib:object` under "Publics
    /// by Value" and "Static symbols".
    pub fn parse(text: &str) -> LinkMap {
        let mut syms: Vec<(u64, String)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let sect = f.next()?;
                let name = f.next()?;
                let addr = f.next()?;
                let (s, o) = sect.split_once(':')?;
                if s.len() != 4 || o.len() != 8 || addr.len() != 16 || name.starts_with('.') {
                    return None;
                }
                Some((u64::from_str_radix(addr, 16).ok()?, name.to_string()))
            })
            .collect();
        syms.sort();
        syms.dedup_by(|a, b| a.0 == b.0);
        LinkMap { syms }
    }

    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The address of `name` (preferred base), if listed.
    pub fn address_of(&self, name: &str) -> Option<u64> {
        self.syms.iter().find(|(_, n)| n == name).map(|(a, _)| *a)
    }

    /// `symbol+0xoff` for `addr` (preferred base); `None` before the first symbol.
    pub fn symbolise(&self, addr: u64) -> Option<String> {
        let i = self.syms.partition_point(|(a, _)| *a <= addr).checked_sub(1)?;
        let (a, n) = &self.syms[i];
        Some(format!("{n}+{:#x}", addr - a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "\
  Address         Publics by Value              Rva+Base               Lib:Object

 0001:00000000       __chkstk                   0000000140001000     atmmcm:x.o
 0001:00000030       DriverEntry                0000000140001030     atmmcm:x.o
 0003:00000088       .bss                       0000000140027088     libndis:y.o
";

    #[test]
    fn linkmap_symbolises_to_the_nearest_symbol_below() {
        let m = LinkMap::parse(MAP);
        assert_eq!(m.len(), 2, "section rows are not symbols");
        assert_eq!(m.symbolise(0x1_4000_1034).as_deref(), Some("DriverEntry+0x4"));
        assert_eq!(m.symbolise(0x1_4000_1000).as_deref(), Some("__chkstk+0x0"));
        assert_eq!(m.symbolise(0x1_4000_0fff), None);
        assert_eq!(m.address_of("DriverEntry"), Some(0x1_4000_1030));
    }
}
