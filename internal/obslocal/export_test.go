package obslocal

// The server's signing helpers, for the hand-signed requests of the
// external tests (package obslocal_test).
var (
	SignedSubresources = signedSubresources
	AWSEscape          = awsEscape
	HMACSHA256         = hmacSHA256
)

// UnsignedPayload is SigV4's x-amz-content-sha256 of an unsigned body.
const UnsignedPayload = unsignedPayload

// XMLTime is the layout of the times in the server's XML responses.
const XMLTime = xmlTime
