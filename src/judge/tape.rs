//! What one scenario or fuzz case sent and got, in order, with the rules judged on each answer:
//! the raw material of `viopay-check diff`, which pairs two targets' tapes by position. Kept only
//! when a run asks for it ([`super::Judge::taping`]): a certification run does not pay for it.

use crate::exchange::Exchange;

/// How one rule came out on one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// The simulator's own answer under the rule.
    Held,
    /// Another answer the rule permits outright (a listed alternative, an UNKNOWN rule).
    Permitted,
    /// Another answer than a SIMULATOR rule's choice: an advisory.
    Differs,
    /// The answer breaks the rule (REQUIRED, or a baselined break).
    Broken,
}

impl Mark {
    /// The mark of a finding at `level`.
    pub fn of_level(level: crate::Level) -> Mark {
        match level {
            crate::Level::Required => Mark::Broken,
            crate::Level::Simulator => Mark::Differs,
            crate::Level::Unknown => Mark::Permitted,
        }
    }
}

/// One exchange of a tape.
#[derive(Debug, Clone, PartialEq)]
pub struct Taped {
    pub exchange: Exchange,
    /// The rules judged on this answer, first judgement first, each once (the worst mark kept).
    pub marks: Vec<(String, Mark)>,
    /// Exchanges sent at once share a group; their answers may come in any order, so they are
    /// compared as a set.
    pub group: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tape {
    pub entries: Vec<Taped>,
}

impl Tape {
    pub fn push(&mut self, exchange: &Exchange) {
        let group = self.entries.len();
        self.entries.push(Taped { exchange: exchange.clone(), marks: Vec::new(), group });
    }

    /// The last `n` exchanges are a set whose order a race decided: sent at once, or each about
    /// one of a set of codes a race issued.
    pub fn unordered(&mut self, n: usize) {
        let len = self.entries.len();
        if n < 2 || n > len {
            return;
        }
        let group = self.entries[len - n].group;
        for e in &mut self.entries[len - n..] {
            e.group = group;
        }
    }

    /// Marks `rule` on the last answer (a rule judged before any answer marks nothing).
    pub fn mark(&mut self, rule: &str, mark: Mark) {
        let Some(last) = self.entries.last_mut() else { return };
        match last.marks.iter_mut().find(|(r, _)| r == rule) {
            Some((_, m)) => *m = (*m).max(mark),
            None => last.marks.push((rule.to_owned(), mark)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(status: u16) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: "http://t/pos/status".into(),
            request_headers: vec![],
            request_body: None,
            status: Some(status),
            response_headers: vec![],
            response_body: String::new(),
            elapsed_ms: 0,
            transport_error: None,
        }
    }

    #[test]
    fn marks_attach_to_the_last_answer_and_keep_the_worst() {
        let mut tape = Tape::default();
        tape.mark("PAIR-01", Mark::Held);
        tape.push(&exchange(200));
        tape.mark("PAIR-01", Mark::Held);
        tape.mark("PAIR-01", Mark::Differs);
        tape.mark("PAIR-01", Mark::Held);
        tape.push(&exchange(409));
        tape.mark("CLAIM-16", Mark::Broken);
        assert_eq!(tape.entries[0].marks, vec![("PAIR-01".to_owned(), Mark::Differs)]);
        assert_eq!(tape.entries[1].marks, vec![("CLAIM-16".to_owned(), Mark::Broken)]);
    }

    #[test]
    fn answers_sent_at_once_share_a_group() {
        let mut tape = Tape::default();
        for s in [200, 200, 409, 409] {
            tape.push(&exchange(s));
        }
        tape.unordered(3);
        let groups: Vec<usize> = tape.entries.iter().map(|e| e.group).collect();
        assert_eq!(groups, vec![0, 1, 1, 1]);
    }
}
