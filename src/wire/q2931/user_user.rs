//! User-user IE (0x7e; Q.2957, UNI 4.0 §2): octet 5 = user protocol discriminator, then the
//! user information.

use super::ie::{IeBody, InvalidIe, put};
use crate::wire::Error;

/// Largest user information field (after the protocol discriminator octet): 128 octets, the
/// `UNI_UU_MAXLEN` of ngatm's UNI 4.0 codec (FreeBSD `netnatm/msg/uni_config.h`). Longer
/// contents are invalid IE contents (cause #100).
pub const MAX_INFO: usize = 128;

/// A User-user IE borrowing its information from the received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserUser<'a> {
    /// User protocol discriminator (Q.931 Table 4-26: 0x04 = IA5 characters, …).
    pub protocol: u8,
    /// User information, at most [`MAX_INFO`] octets.
    pub info: &'a [u8],
}

impl<'a> IeBody<'a> for UserUser<'a> {
    fn parse(c: &'a [u8]) -> Result<Self, InvalidIe> {
        let (&protocol, info) = c.split_first().ok_or(InvalidIe)?;
        if info.len() > MAX_INFO {
            return Err(InvalidIe);
        }
        Ok(UserUser { protocol, info })
    }
    fn content_len(&self) -> usize {
        self.info.len().saturating_add(1)
    }
    fn emit(&self, out: &mut [u8]) -> Result<(), Error> {
        if self.info.len() > MAX_INFO {
            return Err(Error);
        }
        let rest = put(out, &[self.protocol])?;
        put(rest, self.info)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_info_accepted_one_more_rejected() {
        let mut c = [0x41u8; MAX_INFO + 2];
        c[0] = 4;
        let uu = UserUser::parse(&c[..MAX_INFO + 1]).unwrap();
        assert_eq!((uu.protocol, uu.info.len()), (4, MAX_INFO));
        assert!(UserUser::parse(&c).is_err());
        assert!(UserUser::parse(&[]).is_err());
        let big = UserUser { protocol: 4, info: &c[1..] };
        assert!(big.emit(&mut [0u8; 200]).is_err());
    }
}
