//! A thread that carries out requests one after another, off the UI thread, and keeps
//! the reason the last one could not be carried out (shown in the options), logging
//! each new reason once. The sound player and the notification sender are two of these.

use std::sync::{Arc, Mutex, PoisonError, mpsc};

pub struct Worker<T> {
    requests: mpsc::Sender<T>,
    problem: Arc<Problem>,
}

impl<T: Send + 'static> Worker<T> {
    /// Runs `serve` on a thread called `name` until the worker is dropped (then its
    /// inbox ends). A thread that cannot start is a problem, never a panic.
    pub fn start(name: &str, serve: impl FnOnce(mpsc::Receiver<T>, &Problem) + Send + 'static) -> Self {
        let (requests, inbox) = mpsc::channel();
        let problem = Arc::new(Problem::default());
        let shared = Arc::clone(&problem);
        let started = std::thread::Builder::new().name(name.into()).spawn(move || serve(inbox, &shared));
        if let Err(e) = started {
            problem.set(Some(format!("the {name} thread could not start ({e})")));
        }
        Self { requests, problem }
    }

    /// Queues a request; returns at once.
    pub fn send(&self, request: T) {
        // A send fails only when the thread never started; that reason is already kept.
        let _ = self.requests.send(request);
    }

    pub fn last_problem(&self) -> Option<String> {
        self.problem.get()
    }
}

/// Why the last request was not carried out as asked (`None` once one is).
#[derive(Default)]
pub struct Problem {
    last: Mutex<Option<String>>,
    logged: Mutex<Option<String>>,
}

impl Problem {
    /// Records the outcome of a request: `Some(reason)` when it failed.
    pub fn set(&self, outcome: Option<String>) {
        if let Some(reason) = &outcome {
            let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
            if logged.as_ref() != Some(reason) {
                tracing::warn!("{reason}");
                *logged = Some(reason.clone());
            }
        }
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = outcome;
    }

    pub fn get(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_run_in_order_off_the_calling_thread_and_problems_are_kept() {
        let (done, finished) = mpsc::channel();
        let caller = std::thread::current().id();
        let worker = Worker::start("test", move |inbox: mpsc::Receiver<u32>, problem: &Problem| {
            for n in inbox {
                assert_ne!(std::thread::current().id(), caller);
                problem.set((n % 2 == 1).then(|| format!("{n} is odd")));
                done.send(n).unwrap();
            }
        });
        worker.send(1);
        assert_eq!(finished.recv().unwrap(), 1);
        assert_eq!(worker.last_problem().as_deref(), Some("1 is odd"));
        worker.send(2);
        assert_eq!(finished.recv().unwrap(), 2);
        assert_eq!(worker.last_problem(), None, "a success clears the problem");
    }
}
