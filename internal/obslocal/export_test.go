package obslocal

// The server's signing helpers, for the hand-signed requests of the
// external tests (package obslocal_test).
var (
	SignedSubresources = signedSubresources
	AWSEscape          = awsEscape
	HMACSHA256         = hmacSHA256
)

const UnsignedPayload = unsignedPayload
