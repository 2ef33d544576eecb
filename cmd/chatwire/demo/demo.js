console.log("chatwire demo: placeholder until @chatwire/client lands");
