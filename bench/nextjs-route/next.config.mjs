// Nothing to configure: the route is what `create-next-app` plus three
// packages gives.
export default {};
