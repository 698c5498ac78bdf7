//! Success or failure of a response, as Linkerd classifies by default: a failure is a 5xx, a
//! gRPC response whose `grpc-status` (headers or trailers) is not `0`, or no response at all
//! (reset, abort). Everything else, 4xx included, is a success: the server answered as designed.

/// The `classification` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Classification {
    /// Answered, not 5xx, gRPC status 0 (or not gRPC).
    Success,
    /// 5xx, non-zero gRPC status, or no response.
    Failure,
}

impl Classification {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Success => "success",
            Classification::Failure => "failure",
        }
    }

    /// Classifies a stream: `status` is the response status (`None`: no response), and
    /// `grpc_status` the `grpc-status` value seen in the response headers or trailers, if any.
    /// A `grpc-status` that is not a number counts as a failure (a broken gRPC answer).
    pub fn of(status: Option<u16>, grpc_status: Option<&str>) -> Self {
        let Some(status) = status else {
            return Classification::Failure;
        };
        if status >= 500 {
            return Classification::Failure;
        }
        match grpc_status.map(|s| s.trim().parse::<u32>()) {
            Some(Ok(0)) | None => Classification::Success,
            Some(_) => Classification::Failure,
        }
    }
}

#[cfg(test)]
mod tests;
