//! Maps a PE32+ image (`atmmcm.sys`) into this process: sections copied to an anonymous mapping
//! at any address, DIR64 base relocations applied, every import bound by name through a
//! resolver, then each section given its own protection. Parsing is the `object` crate's.

use object::LittleEndian as LE;
use object::pe;
use object::read::pe::{ImageNtHeaders, PeFile64};

/// Why an image could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Io(String),
    Parse(String),
    /// The image imports a function the host does not implement.
    MissingImport {
        dll: String,
        name: String,
    },
    /// An import by ordinal (the host binds by name only).
    OrdinalImport {
        dll: String,
        ordinal: u16,
    },
    UnsupportedRelocation {
        rva: u32,
        typ: u16,
    },
    Map(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "cannot read the image: {e}"),
            LoadError::Parse(e) => write!(f, "not a PE32+ image: {e}"),
            LoadError::MissingImport { dll, name } => write!(f, "import {dll}!{name} has no host function"),
            LoadError::OrdinalImport { dll, ordinal } => write!(f, "import {dll}!#{ordinal} by ordinal"),
            LoadError::UnsupportedRelocation { rva, typ } => write!(f, "base relocation type {typ} at rva {rva:#x}"),
            LoadError::Map(e) => write!(f, "mapping failed: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

fn parse_err(e: object::Error) -> LoadError {
    LoadError::Parse(e.to_string())
}

/// One bound import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub dll: String,
    pub name: String,
    /// The IAT slot's RVA.
    pub iat_rva: u32,
}

/// The image, mapped and ready to run. Unmapped on drop.
pub struct MappedImage {
    base: *mut u8,
    size: usize,
    /// RVA of the entry point (DriverEntry).
    pub entry_rva: u32,
    /// The image base the linker chose (the link map's addresses are relative to it).
    pub preferred_base: u64,
    pub imports: Vec<Import>,
    /// DIR64 relocations applied.
    pub relocations: usize,
    /// Exported names (a driver has none).
    pub exports: usize,
    /// (rva, size, executable) of each section.
    pub sections: Vec<(u32, u32, bool)>,
}

// SAFETY: the mapping is plain memory owned by this value; the driver code in it is run by the
// host's threads, which synchronise through the driver's own locks.
unsafe impl Send for MappedImage {}
// SAFETY: as above; `MappedImage` itself is never written after `load`.
unsafe impl Sync for MappedImage {}

impl Drop for MappedImage {
    fn drop(&mut self) {
        // SAFETY: `base`/`size` is the mapping `load` created; nothing runs in it any more (the
        // owner drops the image only after the driver was unloaded).
        unsafe { libc::munmap(self.base.cast(), self.size) };
    }
}

impl MappedImage {
    /// The address the image was mapped at.
    pub fn base(&self) -> usize {
        self.base as usize
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether `addr` lies inside the image.
    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.base() && addr < self.base() + self.size
    }

    /// Whether `addr` lies in an executable section.
    pub fn in_code(&self, addr: usize) -> bool {
        let Some(rva) = addr.checked_sub(self.base()) else { return false };
        self.sections.iter().any(|&(r, s, x)| x && rva >= r as usize && rva < (r + s) as usize)
    }

    /// The address of `rva` in the mapping.
    pub fn va(&self, rva: u32) -> usize {
        self.base() + rva as usize
    }
}

fn page_round(n: usize) -> usize {
    n.div_ceil(4096) * 4096
}

fn u32_at(mem: &[u8], at: usize) -> Result<u32, LoadError> {
    let b = mem.get(at..at + 4).ok_or_else(|| LoadError::Parse(format!("import data at {at:#x} outside the image")))?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(mem: &[u8], at: usize) -> Result<u64, LoadError> {
    let lo = u32_at(mem, at)?;
    let hi = u32_at(mem, at + 4)?;
    Ok(u64::from(lo) | (u64::from(hi) << 32))
}

/// The NUL-terminated string at `at` in the mapped image.
fn c_str_at(mem: &[u8], at: usize) -> Result<String, LoadError> {
    let tail = mem.get(at..).ok_or_else(|| LoadError::Parse(format!("name at {at:#x} outside the image")))?;
    let len =
        tail.iter().position(|&b| b == 0).ok_or_else(|| LoadError::Parse(format!("name at {at:#x} unterminated")))?;
    Ok(String::from_utf8_lossy(&tail[..len]).into_owned())
}

/// Walks IMAGE_IMPORT_DESCRIPTORs (20 octets each, ending with an all-zero one) at `dir` and
/// writes each import's host function into its IAT slot.
fn bind_imports(
    mem: &mut [u8],
    dir: usize,
    resolve: &dyn Fn(&str, &str) -> Option<usize>,
    out: &mut Vec<Import>,
) -> Result<(), LoadError> {
    for d in (dir..).step_by(20) {
        let (original_first_thunk, name, first_thunk) = (u32_at(mem, d)?, u32_at(mem, d + 12)?, u32_at(mem, d + 16)?);
        if original_first_thunk == 0 && name == 0 && first_thunk == 0 {
            return Ok(());
        }
        let dll = c_str_at(mem, name as usize)?;
        let names = if original_first_thunk == 0 { first_thunk } else { original_first_thunk } as usize;
        let mut iat = first_thunk as usize;
        for t in (names..).step_by(8) {
            let thunk = u64_at(mem, t)?;
            if thunk == 0 {
                break;
            }
            if thunk & pe::IMAGE_ORDINAL_FLAG64 != 0 {
                return Err(LoadError::OrdinalImport { dll, ordinal: (thunk & 0xffff) as u16 });
            }
            // IMAGE_IMPORT_BY_NAME: a 2-octet hint, then the name.
            let name = c_str_at(mem, (thunk & 0x7fff_ffff) as usize + 2)?;
            let Some(f) = resolve(&dll, &name) else {
                return Err(LoadError::MissingImport { dll, name });
            };
            let slot = mem.get_mut(iat..iat + 8).ok_or_else(|| LoadError::Parse("IAT outside the image".into()))?;
            slot.copy_from_slice(&(f as u64).to_le_bytes());
            out.push(Import { dll: dll.clone(), name, iat_rva: iat as u32 });
            iat += 8;
        }
    }
    Ok(())
}

/// Loads `data` (a PE32+ image). `resolve(dll, name)` gives the host function for an import.
pub fn load(data: &[u8], resolve: &dyn Fn(&str, &str) -> Option<usize>) -> Result<MappedImage, LoadError> {
    let file = PeFile64::parse(data).map_err(parse_err)?;
    let nt = file.nt_headers();
    let opt = nt.optional_header();
    let size = page_round(object::read::pe::ImageOptionalHeader::size_of_image(opt) as usize);
    let headers = object::read::pe::ImageOptionalHeader::size_of_headers(opt) as usize;
    let preferred_base = object::read::pe::ImageOptionalHeader::image_base(opt);
    let entry_rva = object::read::pe::ImageOptionalHeader::address_of_entry_point(opt);

    // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(LoadError::Map(std::io::Error::last_os_error().to_string()));
    }
    let mut img = MappedImage {
        base: base.cast(),
        size,
        entry_rva,
        preferred_base,
        imports: Vec::new(),
        relocations: 0,
        exports: 0,
        sections: Vec::new(),
    };
    // SAFETY: `base` is a writable mapping of `size` bytes that only `img` refers to.
    let mem = unsafe { std::slice::from_raw_parts_mut(img.base, size) };

    // Headers and sections.
    let hlen = headers.min(data.len()).min(size);
    mem[..hlen].copy_from_slice(&data[..hlen]);
    let sections = file.section_table();
    for s in sections.iter() {
        let va = s.virtual_address.get(LE) as usize;
        let vsize = (s.virtual_size.get(LE) as usize).max(s.size_of_raw_data.get(LE) as usize);
        let raw = s.pe_data(data).map_err(parse_err)?;
        let dst =
            mem.get_mut(va..va + raw.len()).ok_or_else(|| LoadError::Parse("section outside the image".into()))?;
        dst.copy_from_slice(raw);
        let exec = s.characteristics.get(LE) & pe::IMAGE_SCN_MEM_EXECUTE != 0;
        img.sections.push((va as u32, vsize as u32, exec));
    }

    // DIR64 base relocations.
    let delta = (img.base as u64).wrapping_sub(preferred_base);
    let dirs = file.data_directories();
    if let Some(mut blocks) = dirs.relocation_blocks(data, &sections).map_err(parse_err)? {
        while let Some(block) = blocks.next().map_err(parse_err)? {
            for r in block {
                match r.typ {
                    pe::IMAGE_REL_BASED_ABSOLUTE => {}
                    pe::IMAGE_REL_BASED_DIR64 => {
                        let at = r.virtual_address as usize;
                        let slot = mem
                            .get_mut(at..at + 8)
                            .ok_or(LoadError::UnsupportedRelocation { rva: r.virtual_address, typ: r.typ })?;
                        let mut v = [0u8; 8];
                        v.copy_from_slice(slot);
                        slot.copy_from_slice(&u64::from_le_bytes(v).wrapping_add(delta).to_le_bytes());
                        img.relocations += 1;
                    }
                    typ => return Err(LoadError::UnsupportedRelocation { rva: r.virtual_address, typ }),
                }
            }
        }
    }

    // Imports, bound by name into the IAT. Read from the mapped image, as the Windows loader does:
    // a section's virtual size may exceed its raw data (the tail is zero-filled), and the null
    // thunk ending a name table can sit in that tail, where the file has no bytes.
    let import_dir =
        file.data_directories().get(pe::IMAGE_DIRECTORY_ENTRY_IMPORT).map_or(0, |d| d.virtual_address.get(LE));
    if import_dir != 0 {
        bind_imports(mem, import_dir as usize, resolve, &mut img.imports)?;
    }
    if let Some(exports) = file.export_table().map_err(parse_err)? {
        img.exports = exports.exports().map_err(parse_err)?.len();
    }

    // Protections: headers read-only, each section as its characteristics say.
    protect(img.base, page_round(headers), libc::PROT_READ)?;
    for s in sections.iter() {
        let c = s.characteristics.get(LE);
        let mut prot = 0;
        if c & pe::IMAGE_SCN_MEM_READ != 0 {
            prot |= libc::PROT_READ;
        }
        if c & pe::IMAGE_SCN_MEM_WRITE != 0 {
            prot |= libc::PROT_WRITE;
        }
        if c & pe::IMAGE_SCN_MEM_EXECUTE != 0 {
            prot |= libc::PROT_EXEC | libc::PROT_READ;
        }
        let va = s.virtual_address.get(LE) as usize;
        let len = page_round((s.virtual_size.get(LE) as usize).max(s.size_of_raw_data.get(LE) as usize));
        // SAFETY: `va` is inside the mapping (checked by the copy above).
        protect(unsafe { img.base.add(va) }, len.min(size - va), prot)?;
    }
    Ok(img)
}

fn protect(at: *mut u8, len: usize, prot: i32) -> Result<(), LoadError> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: `at..at+len` lies in a mapping this module created.
    if unsafe { libc::mprotect(at.cast(), len, prot) } != 0 {
        return Err(LoadError::Map(std::io::Error::last_os_error().to_string()));
    }
    Ok(())
}
