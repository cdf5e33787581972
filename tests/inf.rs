//! `inf/atmmcm.inx` against the driver: the Net-class entries an NDIS ATM miniport needs, and the
//! Ndi\params keys against `config::REGISTRY_KEYS` in both directions (names, types, defaults,
//! ranges, enum values and their labels). The negative tests feed the checker modified INF text.

use std::collections::BTreeMap;

use atmmcm::config::{KeyKind, REGISTRY_KEYS};

const INX: &str = include_str!("../inf/atmmcm.inx");

/// An INF: section name (lower case) -> lines, comments stripped.
struct Inf {
    sections: BTreeMap<String, Vec<String>>,
}

/// Strips a `;` comment that is not inside double quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

/// Splits on commas outside quotes.
fn fields(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.last_mut().unwrap().push(c);
            }
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out.iter().map(|f| f.trim().to_string()).collect()
}

impl Inf {
    fn parse(text: &str) -> Inf {
        let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut cur = String::new();
        for raw in text.lines() {
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                cur = line[1..line.len() - 1].trim().to_ascii_lowercase();
                sections.entry(cur.clone()).or_default();
            } else {
                sections.entry(cur.clone()).or_default().push(line.to_string());
            }
        }
        Inf { sections }
    }

    fn section(&self, name: &str) -> &[String] {
        self.sections.get(&name.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `key = value` in a section (case-insensitive key).
    fn value(&self, section: &str, key: &str) -> Option<String> {
        self.section(section).iter().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case(key).then(|| v.trim().to_string())
        })
    }

    /// A `%token%` resolved through [Strings].
    fn string(&self, s: &str) -> String {
        let t = s.trim();
        if t.len() > 2
            && t.starts_with('%')
            && t.ends_with('%')
            && let Some(v) = self.value("Strings", &t[1..t.len() - 1])
        {
            return unquote(&v);
        }
        unquote(t)
    }

    /// Every `HKR, subkey, name, flags, value` line of every section: (subkey, name, value).
    fn hkr(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for lines in self.sections.values() {
            for l in lines {
                let f = fields(l);
                if f.len() >= 5 && f[0].eq_ignore_ascii_case("HKR") {
                    out.push((f[1].to_ascii_lowercase(), unquote(&f[2]), f[4..].join(",")));
                }
            }
        }
        out
    }

    fn hkr_value(&self, subkey: &str, name: &str) -> Option<String> {
        let subkey = subkey.to_ascii_lowercase();
        self.hkr().into_iter().find(|(s, n, _)| *s == subkey && n.eq_ignore_ascii_case(name)).map(|(_, _, v)| v)
    }
}

/// One Ndi\params key as the INF declares it.
#[derive(Default, Debug)]
struct Param {
    desc: Option<String>,
    ty: Option<String>,
    default: Option<String>,
    min: Option<String>,
    max: Option<String>,
    /// value -> label
    enums: BTreeMap<String, String>,
}

fn params(inf: &Inf) -> BTreeMap<String, Param> {
    let mut out: BTreeMap<String, Param> = BTreeMap::new();
    for (subkey, name, value) in inf.hkr() {
        let Some(rest) = subkey.strip_prefix("ndi\\params\\") else { continue };
        let (key, is_enum) = match rest.strip_suffix("\\enum") {
            Some(k) => (k.to_string(), true),
            None => (rest.to_string(), false),
        };
        let p = out.entry(key).or_default();
        let v = inf.string(&value);
        if is_enum {
            p.enums.insert(name, v);
            continue;
        }
        match name.to_ascii_lowercase().as_str() {
            "paramdesc" => p.desc = Some(v),
            "type" => p.ty = Some(v),
            "default" => p.default = Some(v),
            "min" => p.min = Some(v),
            "max" => p.max = Some(v),
            _ => {}
        }
    }
    out
}

fn expect(errs: &mut Vec<String>, what: &str, got: Option<String>, want: &str) {
    if !got.as_deref().is_some_and(|g| g.eq_ignore_ascii_case(want)) {
        errs.push(format!("{what}: want {want:?}, got {got:?}"));
    }
}

/// Every way the INF disagrees with what the driver needs; empty when it is right.
fn check_inf(text: &str) -> Vec<String> {
    let inf = Inf::parse(text);
    let mut errs = Vec::new();

    // [Version]: the Net class.
    expect(&mut errs, "Version.Class", inf.value("Version", "Class"), "Net");
    expect(&mut errs, "Version.ClassGuid", inf.value("Version", "ClassGuid"), "{4d36e972-e325-11ce-bfc1-08002be10318}");

    // [Manufacturer] -> NT$ARCH$ models -> a PCI hardware ID -> the install section.
    let models = inf.section("Manufacturer").first().and_then(|l| l.split_once('=')).map(|(_, v)| fields(v));
    let mut install = None;
    match models {
        Some(m) if m.len() >= 2 && m[1..].iter().any(|d| d.to_ascii_uppercase().starts_with("NT$ARCH$")) => {
            let decoration = m[1..].iter().find(|d| d.to_ascii_uppercase().starts_with("NT$ARCH$")).unwrap();
            let section = format!("{}.{}", m[0], decoration);
            for l in inf.section(&section) {
                if let Some((_, v)) = l.split_once('=') {
                    let f = fields(v);
                    if f.len() >= 2 && f[1].to_ascii_uppercase().starts_with("PCI\\VEN_") {
                        install = Some(f[0].clone());
                    }
                }
            }
            if install.is_none() {
                errs.push(format!("[{section}] has no PCI\\VEN_ hardware ID"));
            }
        }
        _ => errs.push("[Manufacturer] has no NT$ARCH$ models section".into()),
    }
    let install = install.unwrap_or_else(|| "AtmMcm.ndi".into());
    let ddi = format!("{install}.NT");
    expect(&mut errs, "Characteristics (NCF_PHYSICAL)", inf.value(&ddi, "Characteristics"), "0x4");
    expect(&mut errs, "BusType (PCIBus)", inf.value(&ddi, "BusType"), "5");
    expect(&mut errs, "*IfType (IF_TYPE_ATM)", inf.value(&ddi, "*IfType"), "37");
    expect(&mut errs, "*MediaType (NdisMediumAtm)", inf.value(&ddi, "*MediaType"), "8");
    expect(&mut errs, "*PhysicalMediaType", inf.value(&ddi, "*PhysicalMediaType"), "0");
    expect(&mut errs, "Ndi Service", inf.hkr_value("Ndi", "Service").map(|v| unquote(&v)), "atmmcm");
    expect(
        &mut errs,
        "Ndi\\Interfaces UpperRange",
        inf.hkr_value("Ndi\\Interfaces", "UpperRange").map(|v| unquote(&v)),
        "ndisatm",
    );
    expect(
        &mut errs,
        "Ndi\\Interfaces LowerRange",
        inf.hkr_value("Ndi\\Interfaces", "LowerRange").map(|v| unquote(&v)),
        "atm",
    );

    // Service: atmmcm.sys, kernel driver, demand start.
    let add = inf.value(&format!("{ddi}.Services"), "AddService").map(|v| fields(&v));
    match add {
        Some(f) if f.len() >= 3 && f[0].eq_ignore_ascii_case("atmmcm") => {
            let flags = f[1].trim_start_matches("0x").parse::<u32>().unwrap_or(0);
            if flags & 0x2 == 0 {
                errs.push("AddService lacks SPSVCINST_ASSOCSERVICE (0x2)".into());
            }
            let svc = f[2].clone();
            expect(&mut errs, "ServiceType (SERVICE_KERNEL_DRIVER)", inf.value(&svc, "ServiceType"), "1");
            expect(&mut errs, "StartType (SERVICE_DEMAND_START)", inf.value(&svc, "StartType"), "3");
            if !inf.value(&svc, "ServiceBinary").is_some_and(|b| b.to_ascii_lowercase().ends_with("\\atmmcm.sys")) {
                errs.push("ServiceBinary is not ...\\atmmcm.sys".into());
            }
        }
        _ => errs.push(format!("[{ddi}.Services] has no AddService = atmmcm, ...")),
    }

    // Ndi\params <-> REGISTRY_KEYS.
    let ps = params(&inf);
    for (name, p) in &ps {
        let Some(k) = REGISTRY_KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(name)) else {
            errs.push(format!("Ndi\\params\\{name} is not in REGISTRY_KEYS"));
            continue;
        };
        let name = k.name;
        if p.desc.as_deref() != Some(k.description) {
            errs.push(format!("{name}: ParamDesc {:?}, REGISTRY_KEYS says {:?}", p.desc, k.description));
        }
        if p.default.as_deref() != Some(k.default.to_string().as_str()) {
            errs.push(format!("{name}: Default {:?}, REGISTRY_KEYS says {}", p.default, k.default));
        }
        match k.kind {
            KeyKind::Int { min, max } => {
                if p.ty.as_deref() != Some("dword") {
                    errs.push(format!("{name}: Type {:?}, want \"dword\"", p.ty));
                }
                if p.min.as_deref() != Some(min.to_string().as_str())
                    || p.max.as_deref() != Some(max.to_string().as_str())
                {
                    errs.push(format!("{name}: range {:?}..={:?}, REGISTRY_KEYS says {min}..={max}", p.min, p.max));
                }
            }
            KeyKind::Enum(values) => {
                if p.ty.as_deref() != Some("enum") {
                    errs.push(format!("{name}: Type {:?}, want \"enum\"", p.ty));
                }
                let want: BTreeMap<String, String> =
                    values.iter().map(|&(v, l)| (v.to_string(), l.to_string())).collect();
                if p.enums != want {
                    errs.push(format!("{name}: enum {:?}, REGISTRY_KEYS says {want:?}", p.enums));
                }
            }
        }
    }
    for k in REGISTRY_KEYS {
        if !ps.keys().any(|n| n.eq_ignore_ascii_case(k.name)) {
            errs.push(format!("REGISTRY_KEYS {} has no Ndi\\params entry", k.name));
        }
    }
    errs
}

/// The shipped text with `from` replaced by `to` (which must occur).
fn patched(from: &str, to: &str) -> String {
    assert!(INX.contains(from), "test setup: {from:?} not in the INF");
    INX.replacen(from, to, 1)
}

fn without_lines_containing(needle: &str) -> String {
    assert!(INX.contains(needle));
    INX.lines().filter(|l| !l.contains(needle)).collect::<Vec<_>>().join("\n")
}

#[test]
fn shipped_inx_passes_the_checker() {
    assert_eq!(check_inf(INX), Vec::<String>::new());
}

#[test]
fn every_registry_key_appears_in_the_inx() {
    let ps = params(&Inf::parse(INX));
    assert_eq!(ps.len(), REGISTRY_KEYS.len());
    for k in REGISTRY_KEYS {
        assert!(ps.keys().any(|n| n.eq_ignore_ascii_case(k.name)), "{}", k.name);
    }
}

#[test]
fn checker_rejects_a_missing_registry_key() {
    let errs = check_inf(&without_lines_containing("Ndi\\params\\T308,"));
    assert!(errs.iter().any(|e| e.contains("T308 has no Ndi\\params entry")), "{errs:?}");
}

#[test]
fn checker_rejects_a_wrong_default() {
    let errs = check_inf(&patched(
        "HKR, Ndi\\params\\T303, Default,   0, \"4000\"",
        "HKR, Ndi\\params\\T303, Default,   0, \"5000\"",
    ));
    assert!(errs.iter().any(|e| e.starts_with("T303: Default")), "{errs:?}");
}

#[test]
fn checker_rejects_a_wrong_range() {
    let errs = check_inf(&patched(
        "HKR, Ndi\\params\\RingSize, Max,       0, \"4096\"",
        "HKR, Ndi\\params\\RingSize, Max,       0, \"8192\"",
    ));
    assert!(errs.iter().any(|e| e.starts_with("RingSize: range")), "{errs:?}");
}

#[test]
fn checker_rejects_a_param_unknown_to_the_driver() {
    let errs =
        check_inf(&patched("[AtmMcm.Params]\n", "[AtmMcm.Params]\nHKR, Ndi\\params\\Bogus, Type, 0, \"dword\"\n"));
    assert!(errs.iter().any(|e| e.contains("bogus is not in REGISTRY_KEYS")), "{errs:?}");
}

#[test]
fn checker_rejects_a_wrong_enum_value() {
    let errs = check_inf(&patched("SignallingVariant\\enum,  \"31\"", "SignallingVariant\\enum,  \"30\""));
    assert!(errs.iter().any(|e| e.starts_with("SignallingVariant: enum")), "{errs:?}");
}

#[test]
fn checker_rejects_missing_or_wrong_net_class_entries() {
    let cases: &[(String, &str)] = &[
        (without_lines_containing("Characteristics    ="), "Characteristics"),
        (patched("BusType            = 5", "BusType            = 1"), "BusType"),
        (patched("*MediaType         = 8", "*MediaType         = 0"), "*MediaType"),
        (patched("*IfType            = 37", "*IfType            = 6"), "*IfType"),
        (patched("ClassGuid   = {4d36e972", "ClassGuid   = {4d36e973"), "ClassGuid"),
        (patched("UpperRange, 0, \"ndisatm\"", "UpperRange, 0, \"ndis5\""), "UpperRange"),
        (patched("LowerRange, 0, \"atm\"", "LowerRange, 0, \"ethernet\""), "LowerRange"),
        (patched("StartType      = 3", "StartType      = 0"), "StartType"),
        (patched("ServiceType    = 1", "ServiceType    = 2"), "ServiceType"),
        (patched("AtmMcm.ndi, PCI\\VEN_1AF4&DEV_A7A1", "AtmMcm.ndi, ROOT\\ATMMCM"), "hardware ID"),
        (patched("NT$ARCH$.10.0...16299\n\n[Standard", "NTamd64\n\n[Standard"), "NT$ARCH$"),
    ];
    for (text, what) in cases {
        let errs = check_inf(text);
        assert!(errs.iter().any(|e| e.contains(what)), "{what}: {errs:?}");
    }
}
