//! Every parser against random and mutated input: it must answer (usually with an error) and
//! never panic or hang. A seeded generator keeps runs repeatable; `fuzz/` has the same entry
//! points for coverage-guided fuzzing.

use chrono::Duration;
use vaxpass::enrolment::decode_issued;
use vaxpass::*;
use vaxpass_tests::*;

/// xorshift64*: small, seeded, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(4) {
            match self.below(4) {
                0 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] = self.next() as u8;
                }
                1 if !out.is_empty() => out.truncate(self.below(out.len())),
                2 => {
                    let i = self.below(out.len() + 1);
                    out.insert(i, self.next() as u8);
                }
                _ if out.len() > 1 => {
                    let i = self.below(out.len() - 1);
                    out.remove(i);
                }
                _ => {}
            }
        }
        out
    }
}

/// Runs all the byte parsers on one input. Results are ignored: only panics matter here.
fn parse_everything(bytes: &[u8], root: &[u8; 32]) {
    let _ = Credential::from_bytes(bytes);
    let _ = Presentation::from_bytes(bytes);
    let _ = TrustList::verify(bytes, root);
    let _ = RevocationList::verify(bytes, root);
    let _ = RulesList::verify(bytes, root);
    let _ = EnrolmentRequest::from_bytes(bytes);
    let _ = decode_issued(bytes);
    let _ = qr_text::parse(&qr_text::presentation_text(bytes));
    let _ = vaxpass::inspect::inspect(&qr_text::paper_text(bytes));
}

#[test]
fn mutated_structures_never_panic_and_never_verify() {
    let world = World::new();
    let root = world.authority.root_public_key();
    let presentation = base45::decode(&world.show(lunch())[4..]).unwrap();
    let seeds = [
        presentation.clone(),
        world.wallet.paper(&world.pass).unwrap().text.into_bytes(),
        world
            .authority
            .trust_list(lunch(), Duration::hours(1))
            .unwrap(),
        world
            .authority
            .revocation_list(lunch(), Duration::hours(1))
            .unwrap(),
        world.wallet.enrolment_request(&[1; 32], b"proof").unwrap(),
    ];
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    for round in 0..4000 {
        let seed = &seeds[round % seeds.len()];
        let mutated = rng.mutate(seed);
        parse_everything(&mutated, &root);
        if round % seeds.len() == 0 && mutated != presentation {
            let verdict = world.verdict(&qr_text::presentation_text(&mutated), lunch());
            assert!(
                !verdict.is_valid(),
                "a mutated presentation verified (round {round})"
            );
        }
    }
}

#[test]
fn random_bytes_and_texts_never_panic() {
    let world = World::new();
    let root = world.authority.root_public_key();
    let mut rng = Rng(0x0dd_ba11);
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    for _ in 0..2000 {
        let len = rng.below(600);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        parse_everything(&bytes, &root);
        let text: String = (0..len)
            .map(|_| char::from(ALNUM[rng.below(ALNUM.len())]))
            .collect();
        for prefix in ["VP1:", "VC1:", ""] {
            assert_eq!(
                world.verdict(&format!("{prefix}{text}"), lunch()).reason(),
                Some(Reason::Malformed)
            );
        }
    }
}
